package base_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// Settings of the liveness tests in a bubble: a receive timeout whose
// sixteenth is a round 100 ms.
const (
	vInterval = 400 * time.Millisecond
	vTimeout  = 1600 * time.Millisecond
	// vLost is when a silent connection closes: the read deadline is the
	// receive timeout and a sixteenth more (see WithHeartbeat).
	vLost = vTimeout + vTimeout/16
)

// noClose fails if any of the ends has reported a close.
func noClose(t *testing.T, recs map[string]*recorder) {
	t.Helper()
	for name, rec := range recs {
		select {
		case r := <-rec.closed:
			t.Fatalf("unexpected %s close: %v", name, r)
		default:
		}
	}
}

// TestReceiveTimeoutExact: the end with the receive timeout closes a
// connection over which nothing arrives with ReasonConnectionLost, without
// an error event, exactly at its read deadline: the timeout and a
// sixteenth more; the other end sees the close.
func TestReceiveTimeoutExact(t *testing.T) {
	short := base.WithHeartbeat(vInterval, vTimeout)
	silent := base.WithHeartbeat(0, 0) // no heartbeats, no receive timeout

	check := func(t *testing.T, start time.Time, lost, other *recorder, sess *base.Session) {
		t.Helper()
		if r := receive(t, lost.closed, "close of the end with the timeout"); r != base.ReasonConnectionLost {
			t.Fatalf("reason %v, want %v", r, base.ReasonConnectionLost)
		}
		exactly(t, "closing a silent connection", time.Since(start), vLost, "receive timeout + 1/16")
		closeErr(t, "Err", sess.Err(), base.ReasonConnectionLost)
		none(t, lost.errs, "error event")
		if other != nil {
			receive(t, other.closed, "close of the silent end")
		}
	}

	t.Run("server, silent base client", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			p := newMemPair(t, []base.ServerOption{short}, []base.ClientOption{silent})
			check(t, start, p.srvRec, p.cliRec, p.srvSess)
		})
	})
	t.Run("client, silent base server", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			p := newMemPair(t, []base.ServerOption{silent}, []base.ClientOption{short})
			check(t, start, p.cliRec, p.srvRec, p.cliSess)
		})
	})
	t.Run("server, raw client sends preface then nothing", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			ln := newMemListener()
			serveMem(t, base.NewServer(native.New, rec.server(short)...), ln)
			start := time.Now()
			conn, err := ln.dial(context.Background(), "", "")
			if err != nil {
				t.Fatal(err)
			}
			peer := newRawPeer(t, conn)
			peer.send(preface)
			s := receive(t, rec.opened, "session opened")
			check(t, start, rec, nil, s)
			peer.expectEnd()
		})
	})
	t.Run("client, raw server sends preface then nothing", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ln := newMemListener()
			rec := newRecorder()
			start := time.Now()
			peers := make(chan *rawPeer, 1)
			go func() { peers <- acceptMem(t, ln) }()
			_, s, _ := dialMem(t, ln, rec, nil, short)
			peer := <-peers
			peer.send(preface)
			check(t, start, rec, nil, s)
			peer.expectEnd()
		})
	})
}

// TestSilenceCountsFromLastByte: the read deadline moves only when less
// than the receive timeout is left of it, so a byte that arrives within
// the first sixteenth leaves it where it was, and a later one moves it to
// that byte's arrival plus the timeout and a sixteenth.
func TestSilenceCountsFromLastByte(t *testing.T) {
	for _, tc := range []struct {
		at, want time.Duration // when the heartbeat is sent, when the close comes
	}{
		{vTimeout / 32, vLost},             // within the slack: the deadline stays
		{vTimeout / 2, vTimeout/2 + vLost}, // the deadline moves
	} {
		t.Run(tc.at.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newRecorder()
				ln := newMemListener()
				serveMem(t, base.NewServer(native.New, rec.server(base.WithHeartbeat(0, vTimeout))...), ln)
				start := time.Now()
				conn, err := ln.dial(context.Background(), "", "")
				if err != nil {
					t.Fatal(err)
				}
				peer := newRawPeer(t, conn)
				peer.send(preface)
				receive(t, rec.opened, "session opened")
				time.Sleep(tc.at)
				peer.send([]byte{0}) // a heartbeat
				if r := receive(t, rec.closed, "close"); r != base.ReasonConnectionLost {
					t.Fatalf("reason %v, want %v", r, base.ReasonConnectionLost)
				}
				exactly(t, "closing after a heartbeat at "+tc.at.String(), time.Since(start), tc.want,
					"the deadline moves only when less than the receive timeout is left")
			})
		})
	}
}

// TestHeartbeatsKeepIdleConnectionOpenForAnHour: with the default
// heartbeats (2 s) and receive timeouts (5 s), an idle connection stays
// open for an hour, and then answers a request.
func TestHeartbeatsKeepIdleConnectionOpenForAnHour(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newMemPair(t, []base.ServerOption{base.OnRequest(echo)}, nil)
		time.Sleep(time.Hour)
		noClose(t, map[string]*recorder{"client": p.cliRec, "server": p.srvRec})
		if resp, err := p.client.Request(context.Background(), []byte("still")); err != nil || string(resp) != "echo:still" {
			t.Fatalf("request after an idle hour: %q, %v", resp, err)
		}
	})
}

// TestNoHeartbeatNoTimeoutStaysOpen: without heartbeats and receive
// timeouts, nothing is sent and nothing times out.
func TestNoHeartbeatNoTimeoutStaysOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		silent := base.WithHeartbeat(0, 0)
		p := newMemPair(t, []base.ServerOption{silent, base.OnRequest(echo)}, []base.ClientOption{silent})
		time.Sleep(time.Hour)
		noClose(t, map[string]*recorder{"client": p.cliRec, "server": p.srvRec})
		if resp, err := p.client.Request(context.Background(), []byte("x")); err != nil || string(resp) != "echo:x" {
			t.Fatalf("request after an hour of silence: %q, %v", resp, err)
		}
	})
}

// TestHeartbeatRate: an idle connection sends one heartbeat per interval,
// exactly at each tick (the heartbeat just sent does not count as
// something else written); a tick within half an interval of another
// write sends none.
func TestHeartbeatRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval = time.Second
		ln := newMemListener()
		peers := make(chan *rawPeer, 1)
		go func() { peers <- acceptMem(t, ln) }()
		start := time.Now()
		c, _, _ := dialMem(t, ln, newRecorder(), nil, base.WithHeartbeat(interval, 0))
		peer := <-peers
		peer.send(preface)

		// A message at 2.6 intervals: the tick at 3 finds it written 0.4
		// intervals before and sends nothing.
		go func() {
			time.Sleep(interval*5/2 + interval/10)
			if err := c.SendMessage(context.Background(), []byte("m")); err != nil {
				t.Errorf("SendMessage: %v", err)
			}
		}()
		msg := frame(t, base.KindMessage, 0, "m")
		const window = 10 * interval
		if err := peer.conn.SetReadDeadline(start.Add(window + interval/2)); err != nil {
			t.Fatal(err)
		}
		var got []byte
		var at []time.Duration
		buf := make([]byte, 256)
		for {
			n, err := peer.conn.Read(buf)
			if n > 0 {
				got = append(got, buf[:n]...)
				at = append(at, time.Since(start))
			}
			if err != nil {
				break
			}
		}
		want := bytes.Join([][]byte{preface, {0}, {0}, msg, {0}, {0}, {0}, {0}, {0}, {0}, {0}}, nil)
		wantAt := []float64{0, 1, 2, 2.6, 4, 5, 6, 7, 8, 9, 10} // in intervals
		if !bytes.Equal(got, want) {
			t.Fatalf("the client sent % x, want % x", got, want)
		}
		if len(at) != len(wantAt) {
			t.Fatalf("%d writes arrived at %v, want %d", len(at), at, len(wantAt))
		}
		for i, w := range wantAt {
			exactly(t, fmt.Sprintf("write %d", i), at[i], time.Duration(w*float64(interval)),
				"a heartbeat at each tick unless something was written in the last half interval")
		}
	})
}

// TestSlowHandlerDoesNotBlockHeartbeats: a handler that runs for five
// receive timeouts neither delays another request (answered at once) nor
// starves the heartbeats (no end closes); it is answered when it returns.
func TestSlowHandlerDoesNotBlockHeartbeats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const slow = 5 * vTimeout // within the 10 s response timeout
		hb := base.WithHeartbeat(vInterval, vTimeout)
		handler := base.OnRequest(func(_ context.Context, _ *base.Session, q []byte) []byte {
			if string(q) == "slow" {
				time.Sleep(slow)
			}
			return append([]byte("done:"), q...)
		})
		p := newMemPair(t, []base.ServerOption{hb, handler}, []base.ClientOption{hb})

		type outcome struct {
			d   time.Duration
			err error
		}
		slowDone := make(chan outcome, 1)
		start := time.Now()
		go func() {
			resp, err := p.client.Request(context.Background(), []byte("slow"))
			if err == nil && string(resp) != "done:slow" {
				err = errors.New("bad response " + string(resp))
			}
			slowDone <- outcome{time.Since(start), err}
		}()
		resp, err := p.client.Request(context.Background(), []byte("fast"))
		if err != nil || string(resp) != "done:fast" {
			t.Fatalf("fast request: %q, %v", resp, err)
		}
		exactly(t, "the fast request", time.Since(start), 0, "not held up by the slow handler")
		o := receive(t, slowDone, "slow request")
		if o.err != nil {
			t.Fatalf("slow request: %v", o.err)
		}
		exactly(t, "the slow request", o.d, slow, "the handler's run")
		noClose(t, map[string]*recorder{"client": p.cliRec, "server": p.srvRec})
	})
}

// TestSlowMessageHookDoesNotBlockHeartbeats: a message hook that runs for
// five receive timeouts holds up the messages after it, but neither
// requests (answered at once) nor heartbeats (no end closes).
func TestSlowMessageHookDoesNotBlockHeartbeats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const slow = 5 * vTimeout // within the 10 s response timeout
		hb := base.WithHeartbeat(vInterval, vTimeout)
		type arrival struct {
			m  string
			at time.Duration
		}
		got := make(chan arrival, 4)
		start := time.Now()
		p := newMemPair(t, []base.ServerOption{hb,
			base.OnRequest(echo),
			base.OnMessage(func(_ context.Context, _ *base.Session, m []byte) {
				if string(m) == "slow" {
					time.Sleep(slow)
				}
				got <- arrival{string(m), time.Since(start)}
			}),
		}, []base.ClientOption{hb})

		ctx := context.Background()
		for _, m := range []string{"slow", "next"} {
			if err := p.client.SendMessage(ctx, []byte(m)); err != nil {
				t.Fatal(err)
			}
		}
		if resp, err := p.client.Request(ctx, []byte("r")); err != nil || string(resp) != "echo:r" {
			t.Fatalf("request during slow hook: %q, %v", resp, err)
		}
		exactly(t, "the request", time.Since(start), 0, "not held up by the message hook")
		for _, m := range []string{"slow", "next"} {
			a := receive(t, got, m+" message")
			if a.m != m {
				t.Fatalf("message %q, want %q", a.m, m)
			}
			exactly(t, m+" message's hook", a.at, slow, "after the slow hook, in order")
		}
		noClose(t, map[string]*recorder{"client": p.cliRec, "server": p.srvRec})
	})
}

// TestWriteTimeoutWhenPeerStopsReading: sends fill the connection's
// buffers and then wait for room in the write buffer; the write timeout
// (and its sixteenth of slack, the write deadline) closes the connection
// with ReasonNetworkError, which fails the waiting send.
func TestWriteTimeoutWhenPeerStopsReading(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const wt = 1600 * time.Millisecond
		ln := newMemListener()
		peers := make(chan *rawPeer, 1)
		go func() { peers <- acceptMem(t, ln) }()
		rec := newRecorder()
		start := time.Now()
		c, s, _ := dialMem(t, ln, rec, nil, base.WithWriteTimeout(wt), base.WithHeartbeat(0, 0))
		(<-peers).send(preface) // and never reads

		big := make([]byte, 256<<10)
		var err error
		for err == nil {
			err = c.SendMessage(context.Background(), big)
		}
		closeErr(t, "SendMessage", err, base.ReasonNetworkError)
		exactly(t, "the write", time.Since(start), wt+wt/16, "write timeout + 1/16")
		closeErr(t, "Err", s.Err(), base.ReasonNetworkError)
		if r := receive(t, rec.closed, "client closed"); r != base.ReasonNetworkError {
			t.Fatalf("reason %v, want %v", r, base.ReasonNetworkError)
		}
		err = receive(t, rec.errs, "error event")
		var ne net.Error
		if !errors.Is(err, base.ReasonNetworkError) || !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("error event %v", err)
		}
	})
}

// TestBackpressureLosesNothing: a receiver whose message hook is stuck
// stops reading once its queued bytes reach the limit; the sender's sends
// then wait (bounded by their ctx). Neither end mistakes a pause of five
// receive timeouts for a lost connection, and when the hook resumes every
// message queued arrives, in order.
func TestBackpressureLosesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hb := base.WithHeartbeat(vInterval, vTimeout)
		release := make(chan struct{})
		got := make(chan int, 1<<14)
		p := newMemPair(t,
			[]base.ServerOption{hb, base.WithMaxQueuedBytes(64 << 10), base.OnRequest(echo),
				base.OnMessage(func(_ context.Context, _ *base.Session, m []byte) {
					<-release
					got <- int(binary.BigEndian.Uint32(m))
				})},
			[]base.ClientOption{hb, base.WithMaxWriteBuffer(64 << 10)})
		var once sync.Once
		t.Cleanup(func() { once.Do(func() { close(release) }) })
		ends := map[string]*recorder{"client": p.cliRec, "server": p.srvRec}

		msg := make([]byte, 16<<10)
		sent := 0
		for ; ; sent++ {
			if sent == 1<<14 {
				t.Fatalf("%d messages (%d MiB) sent without the sender ever waiting", sent, sent*len(msg)>>20)
			}
			binary.BigEndian.PutUint32(msg, uint32(sent))
			ctx, cancel := context.WithTimeout(context.Background(), vInterval)
			err := p.client.SendMessage(ctx, msg)
			cancel()
			if errors.Is(err, context.DeadlineExceeded) {
				break
			}
			if err != nil {
				t.Fatalf("SendMessage %d: %v", sent, err)
			}
		}
		cs, err := p.client.ActiveSession()
		if err != nil {
			t.Fatal(err)
		}
		if err := cs.TrySendMessage(context.Background(), msg); !errors.Is(err, base.ErrWriteBufferFull) {
			t.Fatalf("TrySendMessage with the write buffer full: %v", err)
		}
		time.Sleep(5 * vTimeout) // within the 10 s write timeout of the blocked sender
		noClose(t, ends)
		once.Do(func() { close(release) })
		for i := range sent {
			if n := receive(t, got, "message"); n != i {
				t.Fatalf("message %d arrived as number %d", n, i)
			}
		}
		if resp, err := p.client.Request(context.Background(), []byte("after")); err != nil || string(resp) != "echo:after" {
			t.Fatalf("request after backpressure: %q, %v", resp, err)
		}
		binary.BigEndian.PutUint32(msg, uint32(sent))
		if err := cs.TrySendMessage(context.Background(), msg); err != nil {
			t.Fatalf("TrySendMessage with room: %v", err)
		}
		if n := receive(t, got, "message"); n != sent {
			t.Fatalf("message %d arrived as number %d", sent, n)
		}
		noClose(t, ends)
	})
}
