package tests

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

const (
	shortTimeout = 300 * time.Millisecond
	// timeoutSlack bounds how late a timeout may fire on a busy machine.
	timeoutSlack = 3 * time.Second
)

// slowPair is a connected pair whose ends both handle Slow (blocking until
// released or the connection ends) and Ping, with extra options on both.
type slowPair struct {
	s                      *server
	c                      *client
	srvStarted, cliStarted chan int
	srvRelease, cliRelease chan struct{}
	callers                []direction
}

// direction is one way a request can go: from caller to the end that
// handles it.
type direction struct {
	name    string
	caller  *base.Session
	started chan int      // the handling end's Slow handler started
	release chan struct{} // releases the handling end's Slow handlers
	handler *events       // the handling end's events
}

func newSlowPair(t *testing.T, sc profile, opts ...netmessage.Option) *slowPair {
	t.Helper()
	p := &slowPair{
		srvStarted: make(chan int, 16), cliStarted: make(chan int, 16),
		srvRelease: make(chan struct{}), cliRelease: make(chan struct{}),
	}
	p.s = startServer(t, sc.wire(), func(srv *netmessage.Mux) {
		testutil.Must(t, handleSlow(srv, p.srvStarted, p.srvRelease))
		testutil.Must(t, handlePing(srv))
	}, toAny(opts)...)
	p.c = p.s.connect(t, sc.wire(), func(cl *netmessage.Mux) {
		testutil.Must(t, handleSlow(cl, p.cliStarted, p.cliRelease))
		testutil.Must(t, handlePing(cl))
	}, toAny(opts)...)
	p.callers = []direction{
		{"client to server", p.c.c.Session(), p.srvStarted, p.srvRelease, p.s.ev},
		{"server to client", p.c.sess, p.cliStarted, p.cliRelease, p.c.ev},
	}
	return p
}

// TestResponseTimeout sets a 300 ms response timeout on both ends with
// WithTransport and sends a request whose handler blocks: the caller gets
// base.ErrRequestTimeout, a net.Error that timed out, after 300 ms. When
// the handler answers late, the late response is dropped and the
// connection works on.
func TestResponseTimeout(t *testing.T) {
	eachProfile(t, func(t *testing.T, sc profile) {
		for _, useCtx := range []bool{false, true} {
			p := newSlowPair(t, sc, netmessage.WithTransport(base.WithResponseTimeout(shortTimeout)))
			for _, d := range p.callers {
				ctx := testutil.Ctx(t)
				if useCtx {
					// A context deadline later than the response timeout
					// leaves the response timeout in charge.
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
					defer cancel()
				}
				start := time.Now()
				_, err := netmessage.Request(ctx, d.caller, Slow{ID: 1})
				elapsed := time.Since(start)
				if got := testutil.Recv(t, d.started, d.name+": handler start"); got != 1 {
					t.Errorf("%s: handler got id %d", d.name, got)
				}
				if !errors.Is(err, base.ErrRequestTimeout) {
					t.Fatalf("%s: got %v (%T), want base.ErrRequestTimeout", d.name, err, err)
				}
				if !isNetTimeout(err) || !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("%s: %v is not a net.Error timeout matching context.DeadlineExceeded", d.name, err)
				}
				testutil.Within(t, d.name+": request", elapsed, shortTimeout, timeoutSlack)
			}
			p.checkLateAnswers(t)
		}
	})
}

// TestContextDeadline leaves the response timeout at its default (10 s) and
// gives the request a context that ends sooner: the caller gets the
// context's error, not base.ErrRequestTimeout, when the context ends.
func TestContextDeadline(t *testing.T) {
	eachProfile(t, func(t *testing.T, sc profile) {
		p := newSlowPair(t, sc)
		for _, d := range p.callers {
			t.Run(d.name, func(t *testing.T) {
				start := time.Now() // before the deadline is set
				ctx, cancel := context.WithTimeout(context.Background(), shortTimeout)
				defer cancel()
				_, err := netmessage.Request(ctx, d.caller, Slow{ID: 2})
				elapsed := time.Since(start)
				testutil.Recv(t, d.started, "handler start")
				if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, base.ErrRequestTimeout) {
					t.Fatalf("got %v (%T), want the context's DeadlineExceeded", err, err)
				}
				testutil.Within(t, "request", elapsed, shortTimeout, timeoutSlack)

				// A cancelled context ends the wait as soon as it is cancelled.
				ctx, cancel = context.WithCancel(context.Background())
				defer cancel()
				done := make(chan error, 1)
				go func() {
					_, err := netmessage.Request(ctx, d.caller, Slow{ID: 3})
					done <- err
				}()
				testutil.Recv(t, d.started, "handler start")
				start = time.Now()
				cancel()
				err = testutil.Recv(t, done, "cancelled request to return")
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("cancelled: got %v, want context.Canceled", err)
				}
				testutil.Within(t, "cancelled request", time.Since(start), 0, timeoutSlack)
			})
		}
		p.checkLateAnswers(t)
	})
}

// checkLateAnswers releases the blocked handlers, whose answers now come
// for requests the callers gave up on, and checks that neither end minds:
// the connection stays open and answers requests, and no error is raised.
func (p *slowPair) checkLateAnswers(t *testing.T) {
	t.Helper()
	close(p.srvRelease)
	close(p.cliRelease)
	for _, d := range p.callers {
		for n := range 3 {
			// The short response timeout applies to these pings too: on a
			// starved machine one may time out, which is no failure here.
			if pong := answered(t, d.name+": ping after late answers", 11, d.caller, Ping{N: n}); pong.N != n {
				t.Fatalf("%s: ping after late answers: %+v", d.name, pong)
			}
		}
	}
	if err := p.c.sess.Err(); err != nil {
		t.Errorf("server session closed: %v", err)
	}
	noErrors(t, "server", p.s.ev)
	noErrors(t, "client", p.c.ev)
}
