// Package interop tests the .NET compat profile end to end against raw
// connections that speak the bytes captured from the original .NET
// NetMessage: Go servers and clients using dotnet.Compat over real TCP
// must send and accept exactly those bytes. (Go-to-Go round trips over
// the compat protocol run in the typed integration suite, tests/typed,
// as its "dotnet" profile.)
package interop

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/netmessage/dotnet"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The C# types of the captures, namespace Interop.
type (
	WeatherResponse struct{ Forecast string }
	WeatherRequest  struct {
		netmessage.Returns[WeatherResponse]
		City string
		Date time.Time
	}
	ChatMessage struct {
		Text string
		Seq  int32
	}
)

// interop is the profile every end in these tests uses.
func interop(opts ...netmessage.Option) netmessage.Option {
	return dotnet.Compat(append([]netmessage.Option{
		dotnet.Namespace("Interop", WeatherRequest{}, WeatherResponse{}, ChatMessage{}),
	}, opts...)...)
}

// Events one end raised.
type (
	closeEvent struct {
		peer   *base.Session
		reason base.CloseReason
	}
	unhandledEvent struct {
		kind base.Kind
		id   string
	}
)

// events collects one end's events on channels large enough that a hook
// never blocks.
type events struct {
	closed    chan closeEvent
	errs      chan error
	unhandled chan unhandledEvent
}

func newEvents() *events {
	return &events{closed: make(chan closeEvent, 64), errs: make(chan error, 1024), unhandled: make(chan unhandledEvent, 1024)}
}

// options returns the hooks that record ev: the error hook, a base
// option, and the unhandled hook, a netmessage option.
func (ev *events) options() []any {
	return []any{
		base.OnError(func(_ *base.Session, err error) { ev.errs <- err }),
		netmessage.OnUnhandled(func(_ *base.Session, kind base.Kind, id string) { ev.unhandled <- unhandledEvent{kind, id} }),
	}
}

// expectError waits for an error event matching target.
func (ev *events) expectError(t testing.TB, target error) error {
	t.Helper()
	err := testutil.Recv(t, ev.errs, "an error event")
	if !errors.Is(err, target) {
		t.Fatalf("error event %v, want %v", err, target)
	}
	return err
}

// noErrors asserts that no error event was raised.
func (ev *events) noErrors(t testing.TB) {
	t.Helper()
	select {
	case err := <-ev.errs:
		t.Errorf("unexpected error event: %v", err)
	default:
	}
}

// server is a Go server speaking the .NET protocol on a loopback port.
type server struct {
	mux    *netmessage.Mux
	srv    *base.Server
	addr   string
	ev     *events
	opened chan *base.Session
}

// startServer starts a server; setup registers its handlers. It is closed
// when the test ends, after which its sessions must have finished.
func startServer(t *testing.T, setup func(*netmessage.Mux), opts ...netmessage.Option) *server {
	t.Helper()
	s := &server{ev: newEvents(), opened: make(chan *base.Session, 64)}
	var sessions testutil.Sessions
	sopts := append([]any{
		interop(opts...),
		base.OnSessionOpened(func(sess *base.Session) {
			sessions.Add(sess.Done())
			s.opened <- sess
		}),
		base.OnSessionClosed(func(sess *base.Session, r base.CloseReason) { s.ev.closed <- closeEvent{sess, r} }),
	}, s.ev.options()...)
	s.mux, s.srv = testutil.TypedServer(t, sopts...)
	if setup != nil {
		setup(s.mux)
	}
	s.addr, _ = testutil.ServeLoopback(t, s.srv, &sessions)
	return s
}

// client is a Go client speaking the .NET protocol.
type client struct {
	c    *base.Client
	ev   *events
	sess *base.Session // the server's session for this client
}

// connect connects a client to s; setup registers its handlers on its
// Mux. It is closed when the test ends.
func (s *server) connect(t *testing.T, setup func(*netmessage.Mux), opts ...netmessage.Option) *client {
	t.Helper()
	c := &client{ev: newEvents()}
	var m *netmessage.Mux
	m, c.c = testutil.TypedClient(t, append([]any{interop(opts...),
		base.OnDisconnected(func(cs *base.Session, r base.CloseReason) { c.ev.closed <- closeEvent{cs, r} })},
		c.ev.options()...)...)
	if setup != nil {
		setup(m)
	}
	testutil.Must(t, c.c.Connect(testutil.Ctx(t), s.addr))
	testutil.CloseClient(t, c.c, c.c)
	c.sess = testutil.Recv(t, s.opened, "the server session")
	return c
}

// weather is the standard WeatherRequest handler: "Sunny in <City>".
func weather(_ context.Context, _ *base.Session, r WeatherRequest) (WeatherResponse, error) {
	return WeatherResponse{Forecast: "Sunny in " + r.City}, nil
}

// serveWeather registers weather on a server's Mux.
func serveWeather(srv *netmessage.Mux) {
	netmessage.HandleRequest(srv, func(ctx context.Context, s *base.Session, r WeatherRequest) (WeatherResponse, error) {
		return weather(ctx, s, r)
	})
}

// expectClose waits for a close event and checks its peer and reason.
func expectClose(t *testing.T, what string, ch <-chan closeEvent, peer *base.Session, reason base.CloseReason) {
	t.Helper()
	ev := testutil.Recv(t, ch, what+" close event")
	if ev.peer != peer || ev.reason != reason {
		t.Errorf("%s closed %p with %v, want %p with %v", what, ev.peer, ev.reason, peer, reason)
	}
}
