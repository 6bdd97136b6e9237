package testutil

import (
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"testing"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
)

// Server is what Serve needs of a server, such as a *base.Server.
type Server interface {
	Serve(ln net.Listener) error
	Close() error
}

// Sessions records the sessions a server opens, so that the test can wait
// for every one of them to finish when it ends. The zero value is ready
// to use, and its methods may be called from any goroutine.
type Sessions struct {
	mu   sync.Mutex
	done []<-chan struct{}
}

// Add records a session by its Done channel.
func (s *Sessions) Add(done <-chan struct{}) {
	s.mu.Lock()
	s.done = append(s.done, done)
	s.mu.Unlock()
}

// Wait waits for every session recorded so far to finish, failing the test
// after WaitTime for any one of them.
func (s *Sessions) Wait(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	done := slices.Clone(s.done)
	s.mu.Unlock()
	for _, d := range done {
		Closed(t, d, "a server session to finish")
	}
}

// Serve runs srv.Serve(ln) in a new goroutine and returns the channel that
// receives its result. When the test ends, it closes srv, fails the test
// unless srv.Serve returned base.ErrServerClosed, and then waits for the
// sessions recorded in sessions (nil for none) to finish. A test that
// takes the result from the channel itself sends base.ErrServerClosed back
// for that check.
func Serve(t testing.TB, srv Server, ln net.Listener, sessions *Sessions) chan error {
	t.Helper()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := Recv(t, served, "Serve to return"); !errors.Is(err, base.ErrServerClosed) {
			t.Errorf("Serve returned %v, want base.ErrServerClosed", err)
		}
		if sessions != nil {
			sessions.Wait(t)
		}
	})
	return served
}

// CloseClient closes c when the test ends, then waits for the session of
// b (usually c itself) to finish if b has one.
func CloseClient(t testing.TB, c io.Closer, b *base.Client) {
	t.Helper()
	t.Cleanup(func() {
		c.Close()
		if s := b.Session(); s != nil {
			Closed(t, s.Done(), "the client session to finish")
		}
	})
}

// ServeLoopback is Serve on a new listener from Listen; it returns the
// listener's address with the channel of Serve's result.
func ServeLoopback(t testing.TB, srv Server, sessions *Sessions) (addr string, served chan error) {
	t.Helper()
	ln := Listen(t)
	return ln.Addr().String(), Serve(t, srv, ln, sessions)
}

// TypedServer returns a Mux made of the netmessage options among opts and
// a server built around it (netmessage.NewServer) with the base options
// among them; any other option fails the test.
func TypedServer(t testing.TB, opts ...any) (*netmessage.Mux, *base.Server) {
	t.Helper()
	m, sopts := splitTyped[base.ServerOption](t, "server", opts)
	return m, netmessage.NewServer(m, sopts...)
}

// TypedClient is TypedServer for a client.
func TypedClient(t testing.TB, opts ...any) (*netmessage.Mux, *base.Client) {
	t.Helper()
	m, copts := splitTyped[base.ClientOption](t, "client", opts)
	return m, netmessage.NewClient(m, copts...)
}

// splitTyped returns a Mux made of the netmessage options among opts and the
// options of type O among the rest; any other option fails the test.
func splitTyped[O any](t testing.TB, end string, opts []any) (*netmessage.Mux, []O) {
	t.Helper()
	var (
		mopts []netmessage.Option
		eopts []O
	)
	for _, o := range opts {
		switch o := o.(type) {
		case netmessage.Option:
			mopts = append(mopts, o)
		case O:
			eopts = append(eopts, o)
		default:
			t.Fatalf("%T is not a %s option", o, end)
		}
	}
	m, err := netmessage.NewMux(mopts...)
	if err != nil {
		t.Fatal(err)
	}
	return m, eopts
}
