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

// TestGracefulDisconnect disconnects gracefully from the client, from the
// server's session and from both at once: Disconnect returns nil, both ends
// report base.ReasonGraceful once, and later calls fail with ErrClosed.
func TestGracefulDisconnect(t *testing.T) {
	eachProfile(t, func(t *testing.T, sc profile) {
		for _, tc := range []struct {
			name       string
			disconnect func(c *client) []*base.Session
		}{
			{"from the client", func(c *client) []*base.Session { return []*base.Session{c.c.Session()} }},
			{"from the server", func(c *client) []*base.Session { return []*base.Session{c.sess} }},
			{"from both at once", func(c *client) []*base.Session { return []*base.Session{c.c.Session(), c.sess} }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s, c := newPair(t, sc, func(srv *netmessage.Mux) { testutil.Must(t, handlePing(srv)) }, nil)
				if _, err := netmessage.Request(testutil.Ctx(t), c.c, Ping{}); err != nil {
					t.Fatal(err)
				}
				peers := tc.disconnect(c)
				results := make(chan error, len(peers))
				for _, p := range peers {
					go func() { results <- p.Disconnect(testutil.Ctx(t)) }()
				}
				for range peers {
					if err := testutil.Recv(t, results, "Disconnect to return"); err != nil {
						t.Errorf("Disconnect: %v", err)
					}
				}
				expectClose(t, "client closed", c.ev.closed, c.c.Session(), base.ReasonGraceful)
				expectClose(t, "server session closed", s.ev.closed, c.sess, base.ReasonGraceful)
				if err := c.sess.Err(); !errors.Is(err, base.ReasonGraceful) {
					t.Errorf("session Err() = %v, want graceful", err)
				}
				if err := netmessage.Send(testutil.Ctx(t), c.c, Probe{}); !errors.Is(err, base.ErrClosed) {
					t.Errorf("client Send after disconnect: %v, want ErrClosed", err)
				}
				if _, err := netmessage.Request(testutil.Ctx(t), c.sess, Ping{}); !errors.Is(err, base.ErrClosed) {
					t.Errorf("server Request after disconnect: %v, want ErrClosed", err)
				}
				testutil.None(t, c.ev.closed, "second client close event")
				noErrors(t, "server", s.ev)
				noErrors(t, "client", c.ev)
			})
		}
	})
}

// TestPendingRequestFailsWhenPeerCloses has one end close at once while the
// other waits for its answer: the wait ends at once (not at the response
// timeout) with a *base.CloseError.
func TestPendingRequestFailsWhenPeerCloses(t *testing.T) {
	eachProfile(t, func(t *testing.T, sc profile) {
		for i, name := range []string{"server closes", "client closes"} {
			t.Run(name, func(t *testing.T) {
				p := newSlowPair(t, sc)
				d := p.callers[i]
				closer := []*base.Session{p.c.sess, p.c.c.Session()}[i]
				closerEvents := []chan closeEvent{p.s.ev.closed, p.c.ev.closed}[i]
				callerEvents := []chan closeEvent{p.c.ev.closed, p.s.ev.closed}[i]

				done := make(chan error, 1)
				go func() {
					_, err := netmessage.Request(testutil.Ctx(t), d.caller, Slow{ID: 9})
					done <- err
				}()
				testutil.Recv(t, d.started, "handler start")
				start := time.Now()
				testutil.Must(t, closer.Close())
				err := testutil.Recv(t, done, "pending request to fail")
				testutil.Within(t, "pending request", time.Since(start), 0, unhandledWithin)
				ce := closeError(t, "pending request", err)
				t.Logf("caller's request failed with %v", ce)

				expectClose(t, "closing end", closerEvents, closer, base.ReasonClosedLocally)
				ev := testutil.Recv(t, callerEvents, "caller's end closed")
				if ev.reason != ce.Reason {
					t.Errorf("caller's end closed with %v, its request failed with %v", ev.reason, ce.Reason)
				}
			})
		}
	})
}

// TestReconnect connects a client again after a graceful disconnect: a new
// session opens and the same handlers serve it.
func TestReconnect(t *testing.T) {
	eachProfile(t, func(t *testing.T, sc profile) {
		s, c := newPair(t, sc, func(srv *netmessage.Mux) { testutil.Must(t, handlePing(srv)) }, nil)
		first := c.sess
		testutil.Must(t, c.c.Disconnect(testutil.Ctx(t)))
		expectClose(t, "client closed", c.ev.closed, c.c.Session(), base.ReasonGraceful)
		expectClose(t, "session closed", s.ev.closed, first, base.ReasonGraceful)
		if _, err := netmessage.Request(testutil.Ctx(t), c.c, Ping{}); !errors.Is(err, base.ErrClosed) {
			t.Fatalf("request while disconnected: %v, want ErrClosed", err)
		}

		testutil.Must(t, c.c.Connect(testutil.Ctx(t), s.addr)) // closed by connect's cleanup
		second := testutil.Recv(t, s.opened, "second session")
		if second == first || second.ID() == first.ID() {
			t.Errorf("second session %d is the first %d again", second.ID(), first.ID())
		}
		if p, err := netmessage.Request(testutil.Ctx(t), c.c, Ping{N: 5}); err != nil || p.N != 5 {
			t.Fatalf("after reconnecting: %+v, %v", p, err)
		}
		if err := c.c.Connect(testutil.Ctx(t), s.addr); !errors.Is(err, base.ErrAlreadyConnected) {
			t.Errorf("Connect while connected: %v, want ErrAlreadyConnected", err)
		}
	})
}

// waitDraining waits until p refuses sends because a graceful disconnect
// has begun on its end. It probes with Probe messages, which the other end
// ignores, since a disconnect under way raises no event.
func waitDraining(t *testing.T, p *base.Session) {
	t.Helper()
	var last error
	testutil.Eventually(t, "the disconnect to begin", func() bool {
		last = netmessage.Send(context.Background(), p, Probe{})
		return last != nil
	})
	if !errors.Is(last, base.ErrClosed) {
		t.Fatalf("Send while disconnecting: %v, want ErrClosed", last)
	}
}

func ignoreProbes(t *testing.T, r *netmessage.Mux) {
	testutil.Must(t, netmessage.HandleMessage(r, func(context.Context, *base.Session, Probe) {}))
}

// TestNotConnected: a typed client that never connected fails every call
// with base.ErrNotConnected.
func TestNotConnected(t *testing.T) {
	eachProfile(t, func(t *testing.T, sc profile) {
		_, c := testutil.TypedClient(t, sc.wire())
		if err := netmessage.Send(testutil.Ctx(t), c, Probe{}); !errors.Is(err, base.ErrNotConnected) {
			t.Errorf("Send: %v", err)
		}
		if _, err := netmessage.Request(testutil.Ctx(t), c, Ping{}); !errors.Is(err, base.ErrNotConnected) {
			t.Errorf("Request: %v", err)
		}
		if err := c.Disconnect(testutil.Ctx(t)); !errors.Is(err, base.ErrNotConnected) {
			t.Errorf("Disconnect: %v", err)
		}
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}

// Bye asks the peer to answer and then disconnect.
type Bye struct {
	netmessage.Returns[Pong]
	N int
}

// TestDisconnectFromHandlers disconnects from inside handlers: a request
// handler starts Disconnect in a goroutine and answers (the answer still
// arrives: a disconnect waits for running handlers), and a message handler
// calls Disconnect directly. Both ends report a graceful shutdown.
//
// (A request handler that calls Disconnect directly waits for itself: the
// disconnect times out after the disconnect timeout, its answer is lost,
// and the ends disagree on the reason. See the report.)
func TestDisconnectFromHandlers(t *testing.T) {
	eachProfile(t, func(t *testing.T, sc profile) {
		for _, via := range []string{"request handler", "message handler"} {
			t.Run(via, func(t *testing.T) {
				results := make(chan error, 1)
				s, c := newPair(t, sc, func(srv *netmessage.Mux) {
					testutil.Must(t, netmessage.HandleRequest(srv, func(_ context.Context, p *base.Session, b Bye) (Pong, error) {
						go func() { results <- p.Disconnect(context.Background()) }()
						return Pong{N: b.N}, nil
					}))
					testutil.Must(t, netmessage.HandleMessage(srv, func(ctx context.Context, p *base.Session, _ Probe) {
						results <- p.Disconnect(ctx)
					}))
				}, nil)
				if via == "request handler" {
					if p, err := netmessage.Request(testutil.Ctx(t), c.c, Bye{N: 8}); err != nil || p.N != 8 {
						t.Fatalf("Bye: %+v, %v; want its answer", p, err)
					}
				} else {
					testutil.Must(t, netmessage.Send(testutil.Ctx(t), c.c, Probe{}))
				}
				if err := testutil.Recv(t, results, "Disconnect to return"); err != nil {
					t.Errorf("Disconnect: %v", err)
				}
				expectClose(t, "server session closed", s.ev.closed, c.sess, base.ReasonGraceful)
				expectClose(t, "client closed", c.ev.closed, c.c.Session(), base.ReasonGraceful)
			})
		}
	})
}
