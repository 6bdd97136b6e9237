package reliability

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// preface is the native protocol's connection preface, and heartbeat its
// heartbeat frame.
var (
	preface   = []byte("NMGO\x02")
	heartbeat = []byte{0}
)

// TestSilentPeersClosedByReceiveTimeout opens raw TCP connections that
// send nothing at all, not even the preface: the server closes each with
// ReasonConnectionLost once its receive timeout has passed, not before and
// not much later, and each raw peer sees its connection end.
func TestSilentPeersClosedByReceiveTimeout(t *testing.T) {
	const peers = 20
	const interval, timeout = 100 * time.Millisecond, 500 * time.Millisecond
	s := startBaseServer(t, base.WithHeartbeat(interval, timeout))

	dialed := make(map[string]time.Time, peers)
	conns := make([]net.Conn, peers)
	for i := range conns {
		start := time.Now() // the server's timeout cannot start earlier
		conn, err := net.DialTimeout("tcp", s.addr, testutil.WaitTime)
		testutil.Must(t, err)
		defer conn.Close()
		conns[i] = conn
		dialed[conn.LocalAddr().String()] = start
	}

	var lat durations
	for range peers {
		ev := testutil.Recv(t, s.closed, "a silent session to close")
		start, ok := dialed[ev.s.RemoteAddr().String()]
		if !ok {
			t.Fatalf("unknown session %s closed", ev.s.RemoteAddr())
		}
		if ev.reason != base.ReasonConnectionLost {
			t.Errorf("silent session closed with %v, want %v", ev.reason, base.ReasonConnectionLost)
		}
		if err := ev.s.Err(); !errors.Is(err, base.ReasonConnectionLost) || !errors.Is(err, base.ErrClosed) {
			t.Errorf("Err() = %v, want a connection-lost close error", err)
		}
		d := ev.at.Sub(start)
		testutil.Within(t, "closing a silent peer", d, timeout, timeout+tolerance)
		lat = append(lat, d)
	}
	t.Logf("receive timeout %v: %d silent peers closed after %v", timeout, peers, lat)

	// Each raw peer read the preface, then the end of its connection.
	for _, conn := range conns {
		testutil.Must(t, conn.SetReadDeadline(time.Now().Add(testutil.WaitTime)))
		got, err := io.ReadAll(conn)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("a silent peer's connection stayed open")
		}
		if len(got) < len(preface) || string(got[:len(preface)]) != string(preface) {
			t.Errorf("silent peer read % x, want the preface first", got)
		}
	}
	select {
	case ev := <-s.errs:
		t.Errorf("error event for a silent peer: %v", ev.err)
	default:
	}
}

// stalledPeer is a raw TCP peer that speaks the native protocol's
// preface and heartbeats, so it looks alive, but never reads.
type stalledPeer struct {
	conn net.Conn
	stop chan struct{}
	done chan struct{}
}

func dialStalled(t *testing.T, addr string, every time.Duration) *stalledPeer {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, testutil.WaitTime)
	testutil.Must(t, err)
	p := &stalledPeer{conn: conn, stop: make(chan struct{}), done: make(chan struct{})}
	if _, err := conn.Write(preface); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-tick.C:
				if _, err := conn.Write(heartbeat); err != nil {
					return
				}
			}
		}
	}()
	t.Cleanup(p.close)
	return p
}

func (p *stalledPeer) close() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.conn.Close()
	<-p.done
}

// TestNonReadingPeersDoNotSlowOthers has the server stream messages to a
// healthy client while raw peers that never read (but send heartbeats, so
// they look alive) are sent as much as the server can queue for them:
//
//   - sends to a stalled peer wait once its write buffer is full (bounded
//     by their context), and the write timeout then closes its session
//     with ReasonNetworkError, failing the waiting sends with that error;
//   - the healthy session keeps at least half of the throughput it had
//     before and after the stall.
//
// A throughput ratio and a close time are meaningless when the machine is
// too busy to run the test: an attempt during which the process stalled
// is inconclusive, and the test tries up to three times (skipping, with
// the reason, if no attempt was conclusive). A broken isolation fails
// every conclusive attempt.
func TestNonReadingPeersDoNotSlowOthers(t *testing.T) {
	const (
		stalled      = 5
		writeTimeout = 3 * time.Second
		window       = 700 * time.Millisecond
		minRatio     = 0.5
		// maxStall is the longest stall of the process an attempt
		// tolerates: a fifth of a window.
		maxStall = window / 5
	)
	var got atomic.Int64
	// Peers send heartbeats every 100 ms; the generous receive timeout
	// keeps a starved machine from closing the healthy session.
	hb := base.WithHeartbeat(100*time.Millisecond, 10*time.Second)
	s := startBaseServer(t, hb,
		base.WithWriteTimeout(writeTimeout),
		base.WithMaxWriteBuffer(256<<10))
	healthy := newBaseClient(t, hb, base.OnMessage(func(context.Context, *base.Session, []byte) { got.Add(1) }))
	healthy.connect(t, s.addr)
	hsess := s.sessionFor(t, healthy.sess.LocalAddr().String())

	// The healthy stream runs for the whole test.
	stopStream := make(chan struct{})
	streamDone := make(chan error, 1)
	go func() {
		msg := make([]byte, 1024)
		for {
			select {
			case <-stopStream:
				streamDone <- nil
				return
			default:
			}
			if err := hsess.SendMessage(context.Background(), msg); err != nil {
				streamDone <- err
				return
			}
		}
	}()
	defer func() {
		close(stopStream)
		if err := testutil.Recv(t, streamDone, "the healthy stream to stop"); err != nil {
			t.Errorf("healthy stream: %v", err)
		}
	}()
	rate := func() float64 {
		before, start := got.Load(), time.Now()
		time.Sleep(window) // the measurement window
		return float64(got.Load()-before) / time.Since(start).Seconds()
	}
	rate() // warm up

	w := testutil.WatchStalls(t)
	for attempt := 1; ; attempt++ {
		w.Reset()
		baseline := rate()
		r := stallPeers(t, s, stalled, writeTimeout, rate)
		after := rate()
		if t.Failed() {
			return
		}
		ratio := r.rate / ((baseline + after) / 2)
		t.Logf("attempt %d: healthy session %.0f msg/s before, %.0f msg/s with %d stalled peers (ratio %.2f), %.0f msg/s after; stalled sessions closed %v after the first send that waited (write timeout %v); worst stall of the process %v",
			attempt, baseline, r.rate, stalled, ratio, after, r.closeLatency, writeTimeout, round(w.Worst()))
		late := r.closeLatency.max() > writeTimeout+tolerance
		if ratio >= minRatio && !late {
			break
		}
		if w.Worst() <= maxStall {
			if late {
				t.Fatalf("a stalled session closed %v after its sends waited, want within %v of the %v write timeout", r.closeLatency.max(), tolerance, writeTimeout)
			}
			t.Fatalf("the healthy session kept %.2f of its throughput with %d stalled peers, want at least %.2f", ratio, stalled, minRatio)
		}
		if attempt == 3 {
			t.Skipf("inconclusive: the process stalled for over %v in every attempt; the machine is too busy to measure throughput", maxStall)
		}
	}
	if err := healthy.sess.Err(); err != nil {
		t.Fatalf("healthy session closed: %v", err)
	}
}

type stallResult struct {
	rate         float64   // the healthy rate while the peers were stalled
	closeLatency durations // close of each stalled session after its first send waited
}

// stallPeers connects n stalled peers, fills the server's write path to
// each, measures the healthy rate while all of them are stalled and then
// checks that the write timeout closes each of them.
func stallPeers(t *testing.T, s *baseServer, n int, writeTimeout time.Duration, rate func() float64) stallResult {
	t.Helper()
	type stuffer struct {
		peer    *stalledPeer
		sess    *base.Session
		waited  chan time.Time // the first send that found the buffer full
		err     chan error     // the send the close failed
		started time.Time
	}
	list := make([]*stuffer, n)
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := range list {
		p := dialStalled(t, s.addr, 100*time.Millisecond)
		st := &stuffer{peer: p, sess: s.sessionFor(t, p.conn.LocalAddr().String()),
			waited: make(chan time.Time, 1), err: make(chan error, 1)}
		list[i] = st
		st.started = time.Now()
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := make([]byte, 64<<10)
			first := true
			for {
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				if !first {
					ctx, cancel = context.WithTimeout(context.Background(), testutil.WaitTime)
				}
				err := st.sess.SendMessage(ctx, msg)
				cancel()
				switch {
				case err == nil:
					continue
				case first && errors.Is(err, context.DeadlineExceeded):
					st.waited <- time.Now()
					first = false
					continue
				}
				st.err <- err
				return
			}
		}()
	}
	var res stallResult
	waited := make([]time.Time, n)
	for i, st := range list {
		select {
		case waited[i] = <-st.waited:
		case err := <-st.err:
			t.Fatalf("send to a stalled peer: %v, before any send waited", err)
		case <-time.After(testutil.WaitTime):
			t.Fatalf("no send to a stalled peer waited within %v", testutil.WaitTime)
		}
	}
	res.rate = rate()

	closes := make(map[*base.Session]closeEvent, n)
	errs := make(map[*base.Session]error, n)
	for range n {
		ev := testutil.Recv(t, s.closed, "a stalled session to close")
		closes[ev.s] = ev
		e := testutil.Recv(t, s.errs, "a stalled session's error event")
		errs[e.s] = e.err
	}
	for i, st := range list {
		err := testutil.Recv(t, st.err, "the waiting send to fail")
		if !errors.Is(err, base.ReasonNetworkError) {
			t.Errorf("waiting send to a stalled peer: %v, want a network-error close", err)
		}
		ev, ok := closes[st.sess]
		if !ok {
			t.Fatalf("no close event for stalled session %d", st.sess.ID())
		}
		if ev.reason != base.ReasonNetworkError {
			t.Errorf("stalled session closed with %v, want %v", ev.reason, base.ReasonNetworkError)
		}
		// The writer blocked after the stuffing started: its one write
		// cannot time out earlier than this.
		if d := ev.at.Sub(st.started); d < writeTimeout {
			t.Errorf("a stalled session closed %v after its stuffing started, before the %v write timeout", d, writeTimeout)
		}
		res.closeLatency = append(res.closeLatency, ev.at.Sub(waited[i]))
		var ne net.Error
		if e := errs[st.sess]; !errors.Is(e, base.ReasonNetworkError) || !errors.As(e, &ne) || !ne.Timeout() {
			t.Errorf("error event %v, want a network error that timed out", e)
		}
		st.peer.close()
	}
	return res
}
