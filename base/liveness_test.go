package base_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

const (
	hbInterval = 50 * time.Millisecond
	hbTimeout  = 300 * time.Millisecond
	// hbBudget is the longest stall of the process that heartbeats at
	// hbInterval ride out before a hbTimeout receive timeout fires: the
	// peer's next heartbeat is due within two intervals at worst.
	hbBudget = hbTimeout - 2*hbInterval
)

func TestHeartbeatKeepsIdleConnectionOpen(t *testing.T) {
	stallRetry(t, func(t *testing.T, w *stallWatch) {
		hb := base.WithHeartbeat(hbInterval, hbTimeout)
		p := newPair(t, []base.ServerOption{hb, base.OnRequest(echo)}, []base.ClientOption{hb})

		// Idle for five receive timeouts: only heartbeats keep it alive.
		// This sleep is the test.
		time.Sleep(5 * hbTimeout)
		w.stayOpen(t, hbBudget, map[string]*recorder{"client": p.cliRec, "server": p.srvRec})
		if resp, err := p.client.Request(ctxT(t), []byte("still")); err != nil || string(resp) != "echo:still" {
			t.Fatalf("request after idle: %q, %v", resp, err)
		}
	})
}

func TestReceiveTimeout(t *testing.T) {
	short := base.WithHeartbeat(hbInterval, hbTimeout)
	silent := base.WithHeartbeat(0, 0) // no heartbeats, no receive timeout

	// The end with the timeout closes with ReasonConnectionLost after about
	// the timeout, with no error event; the other end sees the close.
	check := func(t *testing.T, w *stallWatch, start time.Time, lost, other *recorder, sess *base.Session) {
		t.Helper()
		if r := receive(t, lost.closed, "close of the end with the timeout"); r != base.ReasonConnectionLost {
			t.Fatalf("reason %v, want %v", r, base.ReasonConnectionLost)
		}
		if d := time.Since(start); d < hbTimeout {
			t.Fatalf("closed after %v, before the %v receive timeout", d, hbTimeout)
		} else if d > hbTimeout+tolerance {
			w.fatalf(t, tolerance, "closed after %v, want within %v of the %v receive timeout", d, tolerance, hbTimeout)
		}
		closeErr(t, "Err", sess.Err(), base.ReasonConnectionLost)
		none(t, lost.errs, "error event")
		if other != nil {
			receive(t, other.closed, "close of the silent end")
		}
	}

	t.Run("server, silent base client", func(t *testing.T) {
		stallRetry(t, func(t *testing.T, w *stallWatch) {
			start := time.Now()
			p := newPair(t, []base.ServerOption{short}, []base.ClientOption{silent})
			check(t, w, start, p.srvRec, p.cliRec, p.srvSess)
		})
	})
	t.Run("client, silent base server", func(t *testing.T) {
		stallRetry(t, func(t *testing.T, w *stallWatch) {
			start := time.Now()
			p := newPair(t, []base.ServerOption{silent}, []base.ClientOption{short})
			check(t, w, start, p.cliRec, p.srvRec, p.cliSess)
		})
	})
	t.Run("server, raw client sends preface then nothing", func(t *testing.T) {
		stallRetry(t, func(t *testing.T, w *stallWatch) {
			rec := newRecorder()
			addr := serve(t, base.NewServer(native.New, rec.server(short)...))
			start := time.Now()
			peer := dialRaw(t, addr)
			peer.send(preface)
			s := receive(t, rec.opened, "session opened")
			check(t, w, start, rec, nil, s)
			peer.expectEnd()
		})
	})
	t.Run("client, raw server sends preface then nothing", func(t *testing.T) {
		stallRetry(t, func(t *testing.T, w *stallWatch) {
			addr, peers := rawServer(t)
			rec := newRecorder()
			start := time.Now()
			_, s, _ := connect(t, addr, rec, nil, short)
			peer := acceptRaw(t, peers)
			peer.send(preface)
			check(t, w, start, rec, nil, s)
			peer.expectEnd()
		})
	})
}

func TestNoHeartbeatNoTimeoutStaysOpen(t *testing.T) {
	silent := base.WithHeartbeat(0, 0)
	p := newPair(t, []base.ServerOption{silent, base.OnRequest(echo)}, []base.ClientOption{silent})
	// Nothing is sent and nothing times out. This sleep is the test.
	time.Sleep(5 * hbTimeout)
	none(t, p.cliRec.closed, "client close")
	none(t, p.srvRec.closed, "server close")
	if resp, err := p.client.Request(ctxT(t), []byte("x")); err != nil || string(resp) != "echo:x" {
		t.Fatalf("request after silence: %q, %v", resp, err)
	}
}

func TestSlowHandlerDoesNotBlockHeartbeats(t *testing.T) {
	stallRetry(t, func(t *testing.T, w *stallWatch) {
		const slow = time.Second // over three receive timeouts
		hb := base.WithHeartbeat(hbInterval, hbTimeout)
		handler := base.OnRequest(func(_ context.Context, _ *base.Session, q []byte) []byte {
			if string(q) == "slow" {
				time.Sleep(slow)
			}
			return append([]byte("done:"), q...)
		})
		p := newPair(t, []base.ServerOption{hb, handler}, []base.ClientOption{hb})
		ends := map[string]*recorder{"client": p.cliRec, "server": p.srvRec}

		slowDone := make(chan error, 1)
		start := time.Now()
		go func() {
			resp, err := p.client.Request(context.Background(), []byte("slow"))
			if err == nil && string(resp) != "done:slow" {
				err = errors.New("bad response " + string(resp))
			}
			slowDone <- err
		}()
		// A fast request is answered while the slow one runs.
		resp, err := p.client.Request(ctxT(t), []byte("fast"))
		if err != nil || string(resp) != "done:fast" {
			w.stayOpen(t, hbBudget, ends)
			t.Fatalf("fast request: %q, %v", resp, err)
		}
		if d := time.Since(start); d >= slow {
			w.fatalf(t, slow/2, "fast request took %v, as long as the slow handler", d)
		}
		if err := receive(t, slowDone, "slow request"); err != nil {
			w.stayOpen(t, hbBudget, ends)
			t.Fatalf("slow request: %v", err)
		}
		w.stayOpen(t, hbBudget, ends)
	})
}

func TestSlowMessageHookDoesNotBlockHeartbeats(t *testing.T) {
	stallRetry(t, func(t *testing.T, w *stallWatch) {
		const slow = time.Second
		hb := base.WithHeartbeat(hbInterval, hbTimeout)
		got := make(chan string, 4)
		p := newPair(t, []base.ServerOption{hb,
			base.OnRequest(echo),
			base.OnMessage(func(_ context.Context, _ *base.Session, m []byte) {
				if string(m) == "slow" {
					time.Sleep(slow)
				}
				got <- string(m)
			}),
		}, []base.ClientOption{hb})
		ends := map[string]*recorder{"client": p.cliRec, "server": p.srvRec}

		ctx := ctxT(t)
		for _, m := range []string{"slow", "next"} {
			if err := p.client.SendMessage(ctx, []byte(m)); err != nil {
				t.Fatal(err)
			}
		}
		// The dispatcher is busy, but requests and heartbeats still flow.
		start := time.Now()
		if resp, err := p.client.Request(ctx, []byte("r")); err != nil || string(resp) != "echo:r" {
			w.stayOpen(t, hbBudget, ends)
			t.Fatalf("request during slow hook: %q, %v", resp, err)
		}
		if d := time.Since(start); d >= slow {
			w.fatalf(t, slow/2, "request took %v, waiting for the message hook", d)
		}
		if m := receive(t, got, "slow message"); m != "slow" {
			t.Fatalf("first message %q", m)
		}
		if m := receive(t, got, "next message"); m != "next" {
			t.Fatalf("second message %q", m)
		}
		w.stayOpen(t, hbBudget, ends)
	})
}

func TestWriteTimeoutWhenPeerStopsReading(t *testing.T) {
	addr, peers := rawServer(t)
	rec := newRecorder()
	const wt = 300 * time.Millisecond
	c, s, _ := connect(t, addr, rec, nil, base.WithWriteTimeout(wt), base.WithHeartbeat(0, 0))
	acceptRaw(t, peers).send(preface) // and never reads

	// Sends fill the socket buffers, then wait for room in the write buffer;
	// the write timeout closes the connection, which fails the waiting send.
	big := make([]byte, 256<<10)
	ctx := ctxT(t)
	start := time.Now()
	var err error
	for err == nil {
		err = c.SendMessage(ctx, big)
	}
	closeErr(t, "SendMessage", err, base.ReasonNetworkError)
	if d := time.Since(start); d > wt+waitTime/2 {
		t.Errorf("close took %v", d)
	}
	closeErr(t, "Err", s.Err(), base.ReasonNetworkError)
	r := receive(t, rec.closed, "client closed")
	if r != base.ReasonNetworkError {
		t.Fatalf("reason %v, want %v", r, base.ReasonNetworkError)
	}
	err = receive(t, rec.errs, "error event")
	var ne net.Error
	if !errors.Is(err, base.ReasonNetworkError) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("error event %v", err)
	}
}

// A receiver whose message hook is stuck stops reading once its queued
// bytes reach the limit; the sender's sends then wait (bounded by their
// ctx). Neither end mistakes the pause for a lost connection, and when the
// hook resumes every message queued arrives, in order.
func TestBackpressureLosesNothing(t *testing.T) {
	stallRetry(t, func(t *testing.T, w *stallWatch) {
		hb := base.WithHeartbeat(hbInterval, hbTimeout)
		release := make(chan struct{})
		got := make(chan int, 1<<14)
		p := newPair(t,
			[]base.ServerOption{hb, base.WithMaxQueuedBytes(64 << 10), base.OnRequest(echo),
				base.OnMessage(func(_ context.Context, _ *base.Session, m []byte) {
					<-release
					got <- int(binary.BigEndian.Uint32(m))
				})},
			[]base.ClientOption{hb, base.WithMaxWriteBuffer(64 << 10)})
		var once sync.Once
		t.Cleanup(func() { once.Do(func() { close(release) }) })

		msg := make([]byte, 16<<10)
		sent := 0
		for ; ; sent++ {
			if sent == 1<<14 {
				t.Fatalf("%d messages (%d MiB) sent without the sender ever waiting", sent, sent*len(msg)>>20)
			}
			binary.BigEndian.PutUint32(msg, uint32(sent))
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			err := p.client.SendMessage(ctx, msg)
			cancel()
			if errors.Is(err, context.DeadlineExceeded) {
				break
			}
			if err != nil {
				w.stayOpen(t, hbBudget, map[string]*recorder{"client": p.cliRec, "server": p.srvRec})
				t.Fatalf("SendMessage %d: %v", sent, err)
			}
		}
		t.Logf("the sender waited after %d messages", sent)
		cs, err := p.client.ActiveSession()
		if err != nil {
			t.Fatal(err)
		}
		if err := cs.TrySendMessage(ctxT(t), msg); !errors.Is(err, base.ErrWriteBufferFull) {
			t.Fatalf("TrySendMessage with the write buffer full: %v", err)
		}
		// Paused for a while longer than the receive timeout. This sleep is
		// the test: nothing may close.
		time.Sleep(2 * hbTimeout)
		w.stayOpen(t, hbBudget, map[string]*recorder{"client": p.cliRec, "server": p.srvRec})
		once.Do(func() { close(release) })
		for i := range sent {
			if n := receive(t, got, "message"); n != i {
				t.Fatalf("message %d arrived as number %d", n, i)
			}
		}
		if resp, err := p.client.Request(ctxT(t), []byte("after")); err != nil || string(resp) != "echo:after" {
			w.stayOpen(t, hbBudget, map[string]*recorder{"client": p.cliRec, "server": p.srvRec})
			t.Fatalf("request after backpressure: %q, %v", resp, err)
		}
		binary.BigEndian.PutUint32(msg, uint32(sent))
		if err := cs.TrySendMessage(ctxT(t), msg); err != nil {
			t.Fatalf("TrySendMessage with room: %v", err)
		}
		if n := receive(t, got, "message"); n != sent {
			t.Fatalf("message %d arrived as number %d", sent, n)
		}
		w.stayOpen(t, hbBudget, map[string]*recorder{"client": p.cliRec, "server": p.srvRec})
	})
}

// An idle connection sends one heartbeat per interval: the heartbeat just
// sent does not count as "something else was written" for the next one.
func TestHeartbeatRate(t *testing.T) {
	stallRetry(t, func(t *testing.T, w *stallWatch) {
		addr, peers := rawServer(t)
		const interval = 50 * time.Millisecond
		const window = 20 * interval
		connect(t, addr, newRecorder(), nil, base.WithHeartbeat(interval, 0))
		peer := acceptRaw(t, peers)
		peer.send(preface)

		// Note when each heartbeat byte (after the 5-byte preface) arrives.
		start := time.Now()
		if err := peer.conn.SetReadDeadline(start.Add(window)); err != nil {
			t.Fatal(err)
		}
		var got []byte
		var at []time.Time
		buf := make([]byte, 256)
		for {
			n, err := peer.conn.Read(buf)
			now := time.Now()
			for _, b := range buf[:n] {
				if len(got) >= len(preface) {
					if b != 0 {
						t.Fatalf("non-heartbeat byte %#x from an idle client", b)
					}
					at = append(at, now)
				}
				got = append(got, b)
			}
			if err != nil {
				break
			}
		}
		if len(got) < len(preface) || !bytes.Equal(got[:len(preface)], preface) {
			t.Fatalf("got % x, want the preface first", got)
		}
		if most := int(window/interval) + 1; len(at) > most {
			t.Fatalf("%d heartbeats in %v, want at most %d", len(at), window, most)
		}
		if len(at) < 5 {
			w.fatalf(t, interval, "%d heartbeats in %v at a %v interval", len(at), window, interval)
		}
		// The typical gap is one interval (every other interval gives two);
		// the median shrugs off a stall of a busy machine.
		var gaps []time.Duration
		for i := 1; i < len(at); i++ {
			gaps = append(gaps, at[i].Sub(at[i-1]))
		}
		slices.Sort(gaps)
		if med := gaps[len(gaps)/2]; med > interval*3/2 {
			w.fatalf(t, interval, "median gap between heartbeats %v at a %v interval (%d heartbeats in %v)", med, interval, len(at), window)
		}
	})
}

// The largest limits and timeouts (a way to ask for no limit, as values
// <= 0 keep the defaults) work like any other: no arithmetic on them
// overflows into a deadline in the past or a negative limit.
func TestHugeLimitsAndTimeouts(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  base.Option
	}{
		{"write timeout", base.WithWriteTimeout(math.MaxInt64)},
		{"receive timeout", base.WithHeartbeat(hbInterval, math.MaxInt64)},
		{"response timeout", base.WithResponseTimeout(math.MaxInt64)},
		{"disconnect timeout", base.WithDisconnectTimeout(math.MaxInt64)},
		{"packet size", base.WithMaxPacketSize(math.MaxInt)},
		{"queued bytes", base.WithMaxQueuedBytes(math.MaxInt)},
		{"write buffer", base.WithMaxWriteBuffer(math.MaxInt)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t, []base.ServerOption{tc.opt, base.OnRequest(echo)}, []base.ClientOption{tc.opt})
			if err := p.client.SendMessage(ctxT(t), []byte("m")); err != nil {
				t.Fatal(err)
			}
			if got := receive(t, p.srvRec.messages, "message"); got != "m" {
				t.Fatalf("message %q, want %q", got, "m")
			}
			if resp, err := p.client.Request(ctxT(t), []byte("x")); err != nil || string(resp) != "echo:x" {
				t.Fatalf("request: %q, %v", resp, err)
			}
			if err := p.client.Disconnect(ctxT(t)); err != nil {
				t.Fatalf("Disconnect: %v", err)
			}
			if r := receive(t, p.srvRec.closed, "server closed"); r != base.ReasonGraceful {
				t.Fatalf("server closed with %v, want %v", r, base.ReasonGraceful)
			}
		})
	}
}
