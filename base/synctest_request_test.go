package base_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/netmessage-go/netmessage/base"
)

// vResponse is the response timeout of the bubble tests: its
// thirty-second, the step of the timeouts' ticks (see timeoutList in
// request.go), is a round 50 ms.
const (
	vResponse = 1600 * time.Millisecond
	vStep     = vResponse / 32
)

// timedResult is a request's error and how long it took.
type timedResult struct {
	d   time.Duration
	err error
}

// timedRequest sends a request from a new goroutine and reports the
// outcome on the channel it returns.
func timedRequest(p *pair, ctx context.Context) <-chan timedResult {
	done := make(chan timedResult, 1)
	go func() {
		start := time.Now()
		_, err := p.client.Request(ctx, []byte("q"))
		done <- timedResult{time.Since(start), err}
	}()
	return done
}

// TestResponseTimeoutExact: a request the peer never answers fails with
// ErrRequestTimeout (a net.Error with Timeout() true that matches
// context.DeadlineExceeded, not ErrClosed) and leaves the connection open.
// The requests share one ticker whose step is a thirty-second of the
// timeout: the request that starts the ticks fails exactly at the timeout,
// and one sent during tick k gets its expiry at tick k+1 and fails at tick
// k+34, between the timeout and two steps after it (the documented bound:
// a sixteenth).
func TestResponseTimeoutExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newMemPair(t,
			[]base.ServerOption{base.OnRequest(blockUntilDone)},
			[]base.ClientOption{base.WithResponseTimeout(vResponse)})
		ctx := context.Background()

		lone := <-timedRequest(p, ctx)
		if !errors.Is(lone.err, base.ErrRequestTimeout) {
			t.Fatalf("Request: %v, want ErrRequestTimeout", lone.err)
		}
		var ne net.Error
		if !errors.As(lone.err, &ne) || !ne.Timeout() {
			t.Errorf("%v is not a net.Error with Timeout() true", lone.err)
		}
		if !errors.Is(lone.err, context.DeadlineExceeded) {
			t.Errorf("%v does not match context.DeadlineExceeded", lone.err)
		}
		if errors.Is(lone.err, base.ErrClosed) {
			t.Errorf("%v matches ErrClosed", lone.err)
		}
		exactly(t, "a request alone", lone.d, vResponse, "the response timeout")

		// The first starts the ticks; the others join them 6.25, 10.5
		// and 31.75 steps later (between ticks: a request sent as a tick
		// runs may come before it or after it).
		first := timedRequest(p, ctx)
		var joined []<-chan timedResult
		offsets := []time.Duration{6*vStep + vStep/4, 10*vStep + vStep/2, 31*vStep + 3*vStep/4}
		at := time.Duration(0)
		for _, o := range offsets {
			time.Sleep(o - at)
			at = o
			joined = append(joined, timedRequest(p, ctx))
		}
		r := <-first
		if !errors.Is(r.err, base.ErrRequestTimeout) {
			t.Fatalf("first request: %v, want ErrRequestTimeout", r.err)
		}
		exactly(t, "the request that starts the ticks", r.d, vResponse, "the response timeout")
		for i, o := range offsets {
			r := <-joined[i]
			if !errors.Is(r.err, base.ErrRequestTimeout) {
				t.Fatalf("request sent at %v: %v, want ErrRequestTimeout", o, r.err)
			}
			k := o / vStep
			exactly(t, "a request sent at "+o.String(), r.d, (k+34)*vStep-o,
				"it fails at tick k+34 (k = the tick it was sent in), within [timeout, timeout + timeout/16]")
			within(t, "a request sent at "+o.String(), r.d, vResponse, vResponse+vResponse/16)
		}

		noClose(t, map[string]*recorder{"client": p.cliRec, "server": p.srvRec})
		if p.cliSess.Err() != nil {
			t.Fatalf("session closed: %v", p.cliSess.Err())
		}
	})
}

// TestResponseTimeoutWhileWaitingForRoom: a request that waits for room
// in the write buffer, the peer having stopped reading, fails with
// ErrRequestTimeout at its response timeout, as one the peer never
// answers does, not at the much longer write timeout; it is not sent,
// and the connection stays open.
func TestResponseTimeoutWhileWaitingForRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln := newMemListener()
		peers := make(chan *rawPeer, 1)
		go func() { peers <- acceptMem(t, ln) }()
		rec := newRecorder()
		c, s, _ := dialMem(t, ln, rec, nil, base.WithResponseTimeout(vResponse),
			base.WithWriteTimeout(10*vResponse), base.WithHeartbeat(0, 0), base.WithMaxWriteBuffer(64<<10))
		(<-peers).send(preface) // and never reads

		fillWriteBuffer(t, s)

		start := time.Now()
		_, err := c.Request(context.Background(), []byte("q"))
		if !errors.Is(err, base.ErrRequestTimeout) {
			t.Fatalf("Request: %v, want ErrRequestTimeout", err)
		}
		exactly(t, "a request waiting for room", time.Since(start), vResponse, "the response timeout")
		if err := s.Err(); err != nil {
			t.Fatalf("session closed: %v", err)
		}
		noClose(t, map[string]*recorder{"client": rec})
	})
}

// TestRequestContextDeadlineFirst: a ctx that ends before the response
// timeout ends the request exactly then, with ctx's error.
func TestRequestContextDeadlineFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newMemPair(t,
			[]base.ServerOption{base.OnRequest(blockUntilDone)},
			[]base.ClientOption{base.WithResponseTimeout(time.Minute)})

		const d = 700 * time.Millisecond
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		r := <-timedRequest(p, ctx)
		if r.err != context.DeadlineExceeded {
			t.Fatalf("Request: %v, want ctx's error", r.err)
		}
		exactly(t, "Request", r.d, d, "ctx's deadline")

		// A cancelled ctx gives context.Canceled, at the cancel.
		ctx, cancel = context.WithCancel(context.Background())
		time.AfterFunc(d, cancel)
		r = <-timedRequest(p, ctx)
		if r.err != context.Canceled {
			t.Fatalf("Request: %v, want context.Canceled", r.err)
		}
		exactly(t, "Request", r.d, d, "the cancel")
		if p.cliSess.Err() != nil {
			t.Fatalf("session closed: %v", p.cliSess.Err())
		}
	})
}

// TestDeadlineReachesHandlerExact: on virtual time, where nothing is in
// flight for long, a handler's deadline is exactly its caller's (the wire
// carries whole microseconds, and the caller's 300 ms has none less), and
// both ends give up exactly then.
func TestDeadlineReachesHandlerExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newProbe()
		p := newMemPair(t, []base.ServerOption{base.OnRequest(h.handle), base.WithHandlerTimeout(time.Hour)}, nil)
		const d = 300 * time.Millisecond
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		want, _ := ctx.Deadline()
		done := make(chan error, 1)
		go func() {
			_, err := p.cliSess.Request(ctx, []byte("q"))
			done <- err
		}()
		hctx := receive(t, h.started, "handler start")
		if got, ok := hctx.Deadline(); !ok || !got.Equal(want) {
			t.Fatalf("handler deadline %v (%v), want exactly the caller's %v", got, ok, want)
		}
		if err := receive(t, done, "Request"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Request: %v, want context.DeadlineExceeded", err)
		}
		exactly(t, "the caller's wait", time.Since(start), d, "its deadline")
		exactly(t, "the handler's context", receive(t, h.ended, "handler end").Sub(start), d, "the caller's deadline")
		if !errors.Is(hctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("handler's context: %v, want context.DeadlineExceeded", hctx.Err())
		}
	})
}

// TestDeadlineAfterWaitForRoom: a request that waited for room in the
// write buffer (the server had stopped reading, its message hook stuck)
// carries the time its caller has left when it is sent, not when it was
// made: the handler's deadline is still exactly the caller's.
func TestDeadlineAfterWaitForRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newProbe()
		release := make(chan struct{})
		p := newMemPair(t,
			[]base.ServerOption{base.OnRequest(h.handle), base.WithMaxQueuedBytes(64 << 10),
				base.OnMessage(func(ctx context.Context, _ *base.Session, _ []byte) {
					select {
					case <-release:
					case <-ctx.Done():
					}
				})},
			[]base.ClientOption{base.WithMaxWriteBuffer(64 << 10), base.WithHeartbeat(0, 0)})
		fillWriteBuffer(t, p.cliSess)

		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		want, _ := ctx.Deadline()
		done := timedRequest(p, ctx)
		time.Sleep(500 * time.Millisecond) // the request waits for room
		close(release)
		hctx := receive(t, h.started, "handler start")
		if got, ok := hctx.Deadline(); !ok || !got.Equal(want) {
			t.Fatalf("handler deadline %v (%v), want exactly the caller's %v", got, ok, want)
		}
		close(h.release)
		if r := receive(t, done, "Request"); r.err != nil {
			t.Fatalf("Request: %v", r.err)
		}
	})
}

// TestCancelReachesHandlerExact: on virtual time, a caller's cancel ends
// the handler's context at the very instant (the connection takes no
// time), and the late answer is dropped quietly on both ends.
func TestCancelReachesHandlerExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newProbe()
		p := newMemPair(t, []base.ServerOption{base.OnRequest(h.handle)}, nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := p.cliSess.Request(ctx, []byte("q"))
			done <- err
		}()
		hctx := receive(t, h.started, "handler start")
		if _, ok := hctx.Deadline(); ok {
			t.Error("the handler has a deadline, but the caller gave none")
		}
		time.Sleep(time.Second) // virtual: the handler waits meanwhile
		at := time.Now()
		cancel()
		if err := receive(t, done, "Request"); !errors.Is(err, context.Canceled) {
			t.Fatalf("Request: %v, want context.Canceled", err)
		}
		exactly(t, "the handler's context end after the cancel", receive(t, h.ended, "handler end").Sub(at), 0, "a cancel frame over a connection that takes no time")
		if !errors.Is(hctx.Err(), context.Canceled) {
			t.Errorf("handler's context: %v, want context.Canceled", hctx.Err())
		}
		synctest.Wait() // the late answer has arrived and been dropped
		none(t, p.srvRec.errs, "server error")
		none(t, p.cliRec.errs, "client error")
	})
}

// TestCallsStayInTheirBubble: the ends made in a bubble pool their
// requests' calls apart from the ends made outside, so requests on both
// sides of a bubble, before, during and after it, never take a call whose
// channel belongs to the other side (the runtime would stop the process
// with a fatal error, or the bubble would never let time move on).
func TestCallsStayInTheirBubble(t *testing.T) {
	outside := newPair(t, []base.ServerOption{base.OnRequest(echo)}, nil)
	requests := func(t *testing.T, p *pair) {
		done := make(chan error, 8)
		for range cap(done) {
			go func() {
				_, err := p.client.Request(context.Background(), []byte("q"))
				done <- err
			}()
		}
		for range cap(done) {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	}
	requests(t, outside)
	for range 3 {
		synctest.Test(t, func(t *testing.T) {
			requests(t, newMemPair(t, []base.ServerOption{base.OnRequest(echo)}, nil))
		})
		requests(t, outside)
	}
}
