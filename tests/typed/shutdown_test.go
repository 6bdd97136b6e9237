package tests

import (
	"context"
	"errors"
	"testing"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// inFlightPair is a pair whose server answers Slow when released; the
// client ignores Probe messages (see waitDraining).
func inFlightPair(t *testing.T, sc profile) (*server, *client, chan int, chan struct{}) {
	t.Helper()
	started, release := make(chan int, 4), make(chan struct{})
	s, c := newPair(t, sc,
		func(srv *netmessage.Mux) { testutil.Must(t, handleSlow(srv, started, release)) },
		func(cl *netmessage.Mux) { ignoreProbes(t, cl) })
	return s, c, started, release
}

// TestShutdownAnswersInFlightRequest shuts the server down while a client's
// request is being handled: the handler's answer still reaches the client,
// then both ends report a graceful shutdown and Shutdown returns nil.
func TestShutdownAnswersInFlightRequest(t *testing.T) {
	eachProfile(t, func(t *testing.T, sc profile) {
		s, c, started, release := inFlightPair(t, sc)
		type answer struct {
			resp SlowDone
			err  error
		}
		answers := make(chan answer, 1)
		go func() {
			resp, err := netmessage.Request(testutil.Ctx(t), c.c, Slow{ID: 42})
			answers <- answer{resp, err}
		}()
		testutil.Recv(t, started, "handler start")

		shutdown := make(chan error, 1)
		go func() { shutdown <- s.srv.Shutdown(testutil.Ctx(t)) }()
		if err := testutil.Recv(t, s.served, "Serve to return"); !errors.Is(err, base.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
		s.served <- base.ErrServerClosed // for the cleanup's check
		waitDraining(t, c.sess)
		select {
		case a := <-answers:
			t.Fatalf("request returned before its handler answered: %+v", a)
		case err := <-shutdown:
			t.Fatalf("Shutdown returned %v before the handler answered", err)
		default:
		}

		// A request sent once the shutdown has begun is not handled: it
		// fails when the connection closes.
		late := make(chan error, 1)
		go func() {
			_, err := netmessage.Request(testutil.Ctx(t), c.c, Slow{ID: 43})
			late <- err
		}()

		close(release)
		a := testutil.Recv(t, answers, "the in-flight request")
		if a.err != nil || a.resp.ID != 42 {
			t.Fatalf("in-flight request: %+v, %v; want its answer", a.resp, a.err)
		}
		// (*base.CloseError once the client has read the end of the stream,
		// plain base.ErrClosed if the client was already draining when the
		// request started.)
		if err := testutil.Recv(t, late, "the late request to fail"); !errors.Is(err, base.ErrClosed) {
			t.Errorf("request sent during the shutdown: %v, want ErrClosed", err)
		}
		select {
		case id := <-started:
			t.Errorf("the request %d sent during the shutdown was handled", id)
		default:
		}
		if err := testutil.Recv(t, shutdown, "Shutdown to return"); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		expectClose(t, "server session closed", s.ev.closed, c.sess, base.ReasonGraceful)
		expectClose(t, "client closed", c.ev.closed, c.c.Session(), base.ReasonGraceful)
		if err := c.c.Connect(testutil.Ctx(t), s.addr); err == nil {
			t.Error("Connect to a shut-down server succeeded")
		}
		noErrors(t, "server", s.ev)
		noErrors(t, "client", c.ev)
	})
}

// TestDisconnectAnswersInFlightRequest disconnects gracefully, from either
// end, while the client's request is being handled by the server: the
// answer still arrives, then both ends report a graceful shutdown.
func TestDisconnectAnswersInFlightRequest(t *testing.T) {
	eachProfile(t, func(t *testing.T, sc profile) {
		for _, from := range []string{"client", "server"} {
			t.Run("from the "+from, func(t *testing.T) {
				s, c, started, release := inFlightPair(t, sc)
				answers := make(chan error, 1)
				go func() {
					resp, err := netmessage.Request(testutil.Ctx(t), c.c, Slow{ID: 7})
					if err == nil && resp.ID != 7 {
						err = errors.New("wrong answer")
					}
					answers <- err
				}()
				testutil.Recv(t, started, "handler start")

				var p *base.Session = c.sess
				if from == "client" {
					p = c.c.Session()
				}
				disconnected := make(chan error, 1)
				go func() { disconnected <- p.Disconnect(context.Background()) }()
				// The server's session drains either way: it began the
				// disconnect, or it read the client's end of stream.
				waitDraining(t, c.sess)
				close(release)
				if err := testutil.Recv(t, answers, "the in-flight request"); err != nil {
					t.Fatalf("in-flight request: %v", err)
				}
				if err := testutil.Recv(t, disconnected, "Disconnect to return"); err != nil {
					t.Errorf("Disconnect: %v", err)
				}
				expectClose(t, "server session closed", s.ev.closed, c.sess, base.ReasonGraceful)
				expectClose(t, "client closed", c.ev.closed, c.c.Session(), base.ReasonGraceful)
				noErrors(t, "server", s.ev)
				noErrors(t, "client", c.ev)
			})
		}
	})
}
