package base_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
)

// vResponse is the response timeout of the bubble tests: its sixteenth,
// the step of the timeouts' ticks (see timeoutList in request.go), is a
// round 100 ms.
const (
	vResponse = 1600 * time.Millisecond
	vStep     = vResponse / 16
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
// The requests share one ticker whose step is a sixteenth of the timeout:
// the request that starts the ticks fails exactly at the timeout, and one
// sent during tick k fails at tick k+17, between the timeout and a step
// after it (the documented bound, reached by a request sent on a tick).
func TestResponseTimeoutExact(t *testing.T) {
	bubble(t, func(t *testing.T) {
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

		// The first starts the ticks; the others join them 3.25, 5 and
		// 15.5 steps later.
		first := timedRequest(p, ctx)
		var joined []<-chan timedResult
		offsets := []time.Duration{3*vStep + vStep/4, 5 * vStep, 15*vStep + vStep/2}
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
			exactly(t, "a request sent at "+o.String(), r.d, (k+17)*vStep-o,
				"it fails at tick k+17 (k = the tick it was sent in), within [timeout, timeout + timeout/16]")
			within(t, "a request sent at "+o.String(), r.d, vResponse, vResponse+vStep)
		}

		noClose(t, map[string]*recorder{"client": p.cliRec, "server": p.srvRec})
		if p.cliSess.Err() != nil {
			t.Fatalf("session closed: %v", p.cliSess.Err())
		}
	})
}

// TestRequestContextDeadlineFirst: a ctx that ends before the response
// timeout ends the request exactly then, with ctx's error.
func TestRequestContextDeadlineFirst(t *testing.T) {
	bubble(t, func(t *testing.T) {
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
