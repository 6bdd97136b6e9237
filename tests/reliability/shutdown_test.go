package reliability

import (
	"context"
	"errors"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// shutdownFleet is a typed server with n connected clients, each with a
// Work request in flight.
type shutdownFleet struct {
	s       *typedServer
	clients []*typedClient
	answers chan outcome
	ids     chan int // the IDs answered
}

func startShutdownFleet(t *testing.T, n int, w Work, release <-chan struct{}, opts ...any) *shutdownFleet {
	t.Helper()
	started := make(chan int, n)
	f := &shutdownFleet{answers: make(chan outcome, n), ids: make(chan int, n)}
	f.s = startTypedServer(t, func(srv *netmessage.Mux) { handleWork(t, srv, started, release) }, opts...)
	for i := range n {
		c := newTypedClient(t, nil)
		c.connect(t, f.s, f.s.addr)
		f.clients = append(f.clients, c)
		go func() {
			w := w
			w.ID = i
			got, err := netmessage.Request(context.Background(), c.c, w)
			f.answers <- outcome{err, time.Now()}
			if err == nil {
				f.ids <- got.ID
			}
		}()
	}
	for range n {
		testutil.Recv(t, started, "every handler to start")
	}
	return f
}

// TestShutdownWithRequestsInFlight shuts a server with 10 sessions down
// while each is handling a request that takes 500 ms (the window in which
// a dial must be refused): new connections are refused as soon as
// Shutdown starts, every request is answered, every session closes
// gracefully on both ends, and Shutdown returns nil only once all of that
// is done (the closed hooks have run).
func TestShutdownWithRequestsInFlight(t *testing.T) {
	const n, hold = 10, 500 * time.Millisecond
	f := startShutdownFleet(t, n, Work{Hold: hold}, nil)

	began := time.Now()
	shut := make(chan outcome, 1)
	go func() {
		err := f.s.srv.Shutdown(testutil.Ctx(t))
		shut <- outcome{err, time.Now()}
	}()
	if err := testutil.Recv(t, f.s.served, "Serve to return"); !errors.Is(err, base.ErrServerClosed) {
		t.Errorf("Serve returned %v, want base.ErrServerClosed", err)
	}
	f.s.served <- base.ErrServerClosed // for the cleanup's check
	conn, err := net.DialTimeout("tcp", f.s.addr, testutil.WaitTime)
	refused := time.Now()
	if err == nil {
		conn.Close()
		t.Error("a connection was accepted during Shutdown")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial during Shutdown: %v, want connection refused", err)
	}

	got := map[int]bool{}
	for range n {
		if a := testutil.Recv(t, f.answers, "an in-flight request to end"); a.err != nil {
			t.Errorf("in-flight request: %v, want its answer", a.err)
			continue
		}
		got[testutil.Recv(t, f.ids, "an answer")] = true
	}
	if len(got) != n {
		t.Errorf("%d distinct answers, want %d", len(got), n)
	}
	res := testutil.Recv(t, shut, "Shutdown to return")
	if res.err != nil {
		t.Errorf("Shutdown: %v", res.err)
	}
	if refused.After(res.at) {
		t.Error("the refused dial came after Shutdown returned, proving nothing about a shutdown under way")
	}
	// Shutdown returned after every session's closed hook.
	for range n {
		select {
		case ev := <-f.s.closed:
			if ev.reason != base.ReasonGraceful {
				t.Errorf("server session closed with %v, want graceful", ev.reason.String())
			}
			if ev.at.After(res.at) {
				t.Errorf("a closed hook ran %v after Shutdown returned", ev.at.Sub(res.at))
			}
		default:
			t.Fatal("Shutdown returned before every session's closed hook had run")
		}
	}
	for _, c := range f.clients {
		if ev := testutil.Recv(t, c.closed, "a client to close"); ev.reason != base.ReasonGraceful {
			t.Errorf("client closed with %v, want graceful", ev.reason.String())
		}
	}
	if n := len(f.s.srv.Sessions()); n != 0 {
		t.Errorf("%d sessions listed after Shutdown", n)
	}
	t.Logf("Shutdown with %d sessions each handling a %v request returned nil after %v", n, hold, round(res.at.Sub(began)))
}

// TestShutdownContextEndsEarly shuts a server down whose sessions' handlers
// do not finish: when Shutdown's context ends, Shutdown returns its error
// at once, every session closes with ReasonServerShutdown, and the
// clients' pending requests fail with a *base.CloseError.
func TestShutdownContextEndsEarly(t *testing.T) {
	const n, d = 5, 300 * time.Millisecond
	release := make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock)
	f := startShutdownFleet(t, n, Work{Block: true}, release)

	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	err := f.s.srv.Shutdown(ctx)
	took := time.Since(began)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: %v, want context.DeadlineExceeded", err)
	}
	testutil.Within(t, "Shutdown with a context ending early", took, d, d+tolerance)
	for range n {
		if ev := testutil.Recv(t, f.s.closed, "a server session to close"); ev.reason != base.ReasonServerShutdown {
			t.Errorf("server session closed with %v, want %v", ev.reason.String(), base.ReasonServerShutdown.String())
		}
	}
	reasons := reasonCounts{}
	for _, c := range f.clients {
		reasons[testutil.Recv(t, c.closed, "a client to close").reason]++
	}
	for range n {
		a := testutil.Recv(t, f.answers, "a pending request to fail")
		if !errors.Is(a.err, base.ErrClosed) {
			t.Errorf("pending request: %v, want a *base.CloseError", a.err)
		}
		testutil.Within(t, "a pending request failing", a.at.Sub(began), 0, d+tolerance)
	}
	t.Logf("Shutdown with a %v context returned %v after %v; the clients saw their connections close with %v",
		d, err, round(took), reasons)
}

// TestShutdownHandlerSlowerThanDisconnectTimeout shuts a server down
// while a handler runs that takes longer than the disconnect timeout, with
// a context that leaves plenty of time. Only ctx bounds the wait for
// handlers: the request is answered, the session closes gracefully and
// Shutdown returns nil.
func TestShutdownHandlerSlowerThanDisconnectTimeout(t *testing.T) {
	const hold, disconnect = time.Second, 300 * time.Millisecond
	f := startShutdownFleet(t, 1, Work{Hold: hold}, nil,
		netmessage.WithTransport(base.WithDisconnectTimeout(disconnect)))
	err := f.s.srv.Shutdown(testutil.Ctx(t))
	a := testutil.Recv(t, f.answers, "the in-flight request to end")
	ev := testutil.Recv(t, f.s.closed, "the server session to close")
	if err != nil || a.err != nil || ev.reason != base.ReasonGraceful {
		t.Errorf("Shutdown: %v; in-flight request: %v; session closed with %v; want nil, answered, graceful",
			err, a.err, ev.reason.String())
	}
}
