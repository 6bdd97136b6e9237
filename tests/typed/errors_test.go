package tests

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/netmessage/dotnet"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// unhandledWithin bounds how long an unhandled request may take: it must
// fail at once, not at the response timeout (10 s by default).
const unhandledWithin = 3 * time.Second

// TestRemoteErrors checks, in both directions, how a caller learns that the
// peer could not answer: a handler error (CodeHandler with its text), a
// handler panic (CodePanic, an error event with a *base.PanicError on the
// handling end, and the session lives on), a request without a handler
// (ErrUnhandled at once and an OnUnhandled event) and a message without a
// handler (an OnUnhandled event).
//
// Under the .NET protocol, which has no error responses, see
// checkNoErrorResponses.
func TestRemoteErrors(t *testing.T) {
	eachProfile(t, func(t *testing.T, sc profile) {
		if !sc.errorResponses {
			checkNoErrorResponses(t, sc)
			return
		}
		s, c := newPair(t, sc,
			func(srv *netmessage.Mux) { testutil.Must(t, handleFault(srv)) },
			func(cl *netmessage.Mux) { testutil.Must(t, handleFault(cl)) })
		for _, d := range []struct {
			name    string
			caller  *base.Session
			handler *base.Session // the handling end, as its hooks see it
			ev      *events       // the handling end's events
		}{
			{"client to server", c.c.Session(), c.sess, s.ev},
			{"server to client", c.sess, c.c.Session(), c.ev},
		} {
			t.Run(d.name, func(t *testing.T) {
				// A handler error reaches the caller with its text.
				_, err := netmessage.Request(testutil.Ctx(t), d.caller, Fault{Mode: "error"})
				re := remoteError(t, "handler error", err)
				if re.Code != netmessage.CodeHandler || re.Message != "deliberate failure: error" {
					t.Errorf("handler error: got code %v message %q", re.Code, re.Message)
				}
				if errors.Is(err, netmessage.ErrUnhandled) || !strings.Contains(err.Error(), "deliberate failure") {
					t.Errorf("handler error reads %q", err)
				}

				// A panic: CodePanic for the caller, one error event with a
				// *base.PanicError on the handling end.
				_, err = netmessage.Request(testutil.Ctx(t), d.caller, Fault{Mode: "panic"})
				re = remoteError(t, "panic", err)
				if re.Code != netmessage.CodePanic || !strings.Contains(re.Message, "deliberate panic") {
					t.Errorf("panic: got code %v message %q", re.Code, re.Message)
				}
				ev := testutil.Recv(t, d.ev.errs, "panic error event")
				var pe *base.PanicError
				if !errors.As(ev.err, &pe) {
					t.Fatalf("panic error event: got %v (%T), want a *base.PanicError", ev.err, ev.err)
				}
				if pe.Value != "deliberate panic" || len(pe.Stack) == 0 {
					t.Errorf("PanicError: value %v, %d bytes of stack", pe.Value, len(pe.Stack))
				}
				if ev.peer != d.handler {
					t.Errorf("panic error event: peer %p, want %p", ev.peer, d.handler)
				}
				testutil.None(t, d.ev.errs, "second error event for one panic")

				// The session lives on.
				res, err := netmessage.Request(testutil.Ctx(t), d.caller, Fault{Mode: "fine"})
				if err != nil || res.Mode != "fine" {
					t.Fatalf("after the panic: %+v, %v", res, err)
				}

				// No handler: ErrUnhandled at once, and an event.
				start := time.Now()
				_, err = netmessage.Request(testutil.Ctx(t), d.caller, Orphan{X: 1})
				testutil.Within(t, "unhandled request", time.Since(start), 0, unhandledWithin)
				if !errors.Is(err, netmessage.ErrUnhandled) {
					t.Fatalf("unhandled request: got %v, want ErrUnhandled", err)
				}
				if re := remoteError(t, "unhandled", err); re.Code != netmessage.CodeUnhandled || !strings.Contains(re.Message, typeID[Orphan](sc)) {
					t.Errorf("unhandled: got code %v message %q", re.Code, re.Message)
				}
				expectUnhandled(t, d.ev, base.KindRequest, typeID[Orphan](sc), d.handler)

				testutil.Must(t, netmessage.Send(testutil.Ctx(t), d.caller, Stray{X: 2}))
				expectUnhandled(t, d.ev, base.KindMessage, typeID[Stray](sc), d.handler)
				testutil.None(t, d.ev.unhandled, "another unhandled event")
				noErrors(t, "handling end", d.ev)
			})
		}
	})
}

// TestRemoveHandlerWhileConnected removes and re-registers a handler on an
// open connection: in between, its requests are unhandled (under the .NET
// protocol: not answered, so they time out).
func TestRemoveHandlerWhileConnected(t *testing.T) {
	eachProfile(t, func(t *testing.T, sc profile) {
		var opts []netmessage.Option
		if !sc.errorResponses {
			opts = append(opts, netmessage.WithTransport(base.WithResponseTimeout(shortTimeout)))
		}
		s, c := newPair(t, sc, func(srv *netmessage.Mux) { testutil.Must(t, handlePing(srv)) }, nil, opts...)
		answered(t, "first request", 3, c.c, Ping{N: 1})
		if !netmessage.RemoveHandler[Ping](s.mux) {
			t.Fatal("RemoveHandler found no handler for Ping")
		}
		_, err := netmessage.Request(testutil.Ctx(t), c.c, Ping{N: 2})
		if sc.errorResponses && !errors.Is(err, netmessage.ErrUnhandled) {
			t.Fatalf("after RemoveHandler: got %v, want ErrUnhandled", err)
		}
		if !sc.errorResponses {
			if !errors.Is(err, base.ErrRequestTimeout) {
				t.Fatalf("after RemoveHandler: got %v, want base.ErrRequestTimeout", err)
			}
			expectErrorEvent(t, "the unsent error response", s.ev, c.sess, dotnet.ErrErrorResponse, "no handler for "+typeID[Ping](sc))
		}
		if ev := testutil.Recv(t, s.ev.unhandled, "unhandled event"); ev.id != typeID[Ping](sc) {
			t.Errorf("unhandled event for %q", ev.id)
		}
		testutil.Must(t, handlePing(s.mux))
		if p := answered(t, "after registering again", 3, c.c, Ping{N: 3}); p.N != 3 {
			t.Fatalf("after registering again: %+v", p)
		}
		noErrors(t, "server", s.ev)
	})
}

// checkNoErrorResponses is TestRemoteErrors for a protocol without error
// responses (the .NET one), in both directions: when the handling end
// cannot answer (a handler error, a panic, no handler) the caller times
// out with base.ErrRequestTimeout, as it would with a .NET peer, and the
// handling end raises an error event wrapping dotnet.ErrErrorResponse
// that carries the reason (after the *base.PanicError event for a panic).
// The connection lives on; a message without a handler raises an
// OnUnhandled event.
func checkNoErrorResponses(t *testing.T, sc profile) {
	s, c := newPair(t, sc,
		func(srv *netmessage.Mux) { testutil.Must(t, handleFault(srv)) },
		func(cl *netmessage.Mux) { testutil.Must(t, handleFault(cl)) },
		netmessage.WithTransport(base.WithResponseTimeout(shortTimeout)))
	for _, d := range []struct {
		name    string
		caller  *base.Session
		handler *base.Session
		ev      *events
	}{
		{"client to server", c.c.Session(), c.sess, s.ev},
		{"server to client", c.sess, c.c.Session(), c.ev},
	} {
		t.Run(d.name, func(t *testing.T) {
			expectTimeout(t, "handler error", d.caller, Fault{Mode: "error"})
			expectErrorEvent(t, "handler error", d.ev, d.handler, dotnet.ErrErrorResponse, "handler error: deliberate failure: error")

			expectTimeout(t, "panic", d.caller, Fault{Mode: "panic"})
			ev := testutil.Recv(t, d.ev.errs, "panic error event")
			var pe *base.PanicError
			if !errors.As(ev.err, &pe) || pe.Value != "deliberate panic" || ev.peer != d.handler {
				t.Fatalf("panic error event: %v (%T) from %p, want a *base.PanicError from %p", ev.err, ev.err, ev.peer, d.handler)
			}
			expectErrorEvent(t, "panic", d.ev, d.handler, dotnet.ErrErrorResponse, "handler panic: deliberate panic")

			if res := answered(t, "after the panic", 3, d.caller, Fault{Mode: "fine"}); res.Mode != "fine" {
				t.Fatalf("after the panic: %+v", res)
			}

			expectTimeout(t, "unhandled request", d.caller, Orphan{X: 1})
			expectUnhandled(t, d.ev, base.KindRequest, typeID[Orphan](sc), d.handler)
			expectErrorEvent(t, "unhandled request", d.ev, d.handler, dotnet.ErrErrorResponse, "no handler for "+typeID[Orphan](sc))

			testutil.Must(t, netmessage.Send(testutil.Ctx(t), d.caller, Stray{X: 2}))
			expectUnhandled(t, d.ev, base.KindMessage, typeID[Stray](sc), d.handler)
			testutil.None(t, d.ev.unhandled, "another unhandled event")
			noErrors(t, "handling end", d.ev)
		})
	}
	if err := c.sess.Err(); err != nil {
		t.Errorf("session closed: %v", err)
	}
}

// expectTimeout sends req and checks that it fails with
// base.ErrRequestTimeout after the short response timeout.
func expectTimeout[Req netmessage.RequestType[Resp], Resp any](t *testing.T, what string, caller *base.Session, req Req) {
	t.Helper()
	start := time.Now()
	if _, err := netmessage.Request(testutil.Ctx(t), caller, req); !errors.Is(err, base.ErrRequestTimeout) {
		t.Fatalf("%s: got %v, want base.ErrRequestTimeout", what, err)
	}
	testutil.Within(t, what, time.Since(start), shortTimeout, timeoutSlack)
}

// answered makes a request that must be answered on a connection whose
// response timeout is shortTimeout. A starved machine may answer after the
// timeout (the late response is dropped quietly), so a request that timed
// out is made again, attempts times at most; any other error fails.
func answered[Req netmessage.RequestType[Resp], Resp any, P netmessage.Peer](t *testing.T, what string, attempts int, p P, req Req) Resp {
	t.Helper()
	for try := 1; ; try++ {
		resp, err := netmessage.Request(testutil.Ctx(t), p, req)
		if errors.Is(err, base.ErrRequestTimeout) && try < attempts {
			t.Logf("%s: timed out (attempt %d); again", what, try)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return resp
	}
}

// expectErrorEvent waits for an error event of ev that matches target,
// names peer and contains text.
func expectErrorEvent(t *testing.T, what string, ev *events, peer *base.Session, target error, text string) {
	t.Helper()
	e := testutil.Recv(t, ev.errs, what+": error event")
	if !errors.Is(e.err, target) || !strings.Contains(e.err.Error(), text) || e.peer != peer {
		t.Errorf("%s: error event %q from %p, want %v containing %q from %p", what, e.err, e.peer, target, text, peer)
	}
}

// expectUnhandled waits for an unhandled event on ev and checks that it is
// for a packet of the given kind and type id from peer.
func expectUnhandled(t testing.TB, ev *events, kind base.Kind, id string, peer *base.Session) {
	t.Helper()
	what := "unhandled " + kind.String() + " event"
	uev := testutil.Recv(t, ev.unhandled, what)
	if uev.kind != kind || uev.id != id || uev.peer != peer {
		t.Errorf("%s: %v %q from %p, want %v %q from %p", what, uev.kind, uev.id, uev.peer, kind, id, peer)
	}
}
