package reliability

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// floodWait bounds the waits of the flood tests: a connection whose SYN
// was dropped from a full accept queue is retried by the kernel after 1 s,
// then 3 s.
const floodWait = 30 * time.Second

// floodCtx returns a context that ends after floodWait or with the test.
func floodCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), floodWait)
	t.Cleanup(cancel)
	return ctx
}

// TestConnectionFlood opens 2000 connections to one server at once: every
// one gets a session that answers a request, all disconnect gracefully at
// once with ReasonGraceful on both ends, and the goroutines of all 2000
// sessions are gone afterwards.
func TestConnectionFlood(t *testing.T) {
	const n = 2000
	testutil.RaiseFileLimit(t, 2*n+512) // both ends live in this process
	goroutines := runtime.NumGoroutine()
	// Generous receive and disconnect timeouts: on a busy machine the flood
	// itself must not be mistaken for dead peers or stuck disconnects.
	hb := base.WithHeartbeat(2*time.Second, floodWait)
	dt := base.WithDisconnectTimeout(floodWait)
	s := startBaseServer(t, hb, dt)
	ctx := floodCtx(t)

	clientClosed := make(chan closeEvent, n)
	clients := make([]*base.Client, n)
	for i := range clients {
		clients[i] = base.NewClient(native.New, hb, dt,
			base.OnDisconnected(func(s *base.Session, r base.CloseReason) { clientClosed <- closeEvent{s, r, time.Now()} }))
		testutil.CloseClient(t, clients[i], clients[i])
	}

	// All at once: every goroutine waits for the start signal.
	var ready, wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	run := func(f func(c *base.Client) error) time.Duration {
		ready.Add(n)
		wg.Add(n)
		for _, c := range clients {
			go func() {
				defer wg.Done()
				ready.Done()
				<-start
				if err := f(c); err != nil {
					errs <- err
				}
			}()
		}
		ready.Wait()
		began := time.Now()
		close(start)
		wg.Wait()
		start = make(chan struct{})
		select {
		case err := <-errs:
			t.Fatalf("%v (and %d more errors)", err, len(errs))
		default:
		}
		return time.Since(began)
	}

	began := time.Now()
	connectTook := run(func(c *base.Client) error { return c.Connect(ctx, s.addr) })
	for range n {
		testutil.Recv(t, s.opened, "every session to open")
	}
	openTook := time.Since(began)
	if got := len(s.srv.Sessions()); got != n {
		t.Fatalf("the server has %d sessions, want %d", got, n)
	}

	requestTook := run(func(c *base.Client) error {
		want := fmt.Sprintf("echo:%p", c)
		got, err := c.Request(ctx, []byte(want[len("echo:"):]))
		if err == nil && string(got) != want {
			err = fmt.Errorf("answer %q, want %q", got, want)
		}
		return err
	})

	began = time.Now()
	disconnectTook := run(func(c *base.Client) error { return c.Disconnect(ctx) })
	reasons := map[string]reasonCounts{"server": {}, "client": {}}
	for range n {
		reasons["server"][testutil.Recv(t, s.closed, "every session to close").reason]++
		reasons["client"][testutil.Recv(t, clientClosed, "every client to close").reason]++
	}
	closeTook := time.Since(began)
	for end, m := range reasons {
		if m[base.ReasonGraceful] != n {
			t.Errorf("%s ends closed with %v, want %d graceful", end, m, n)
		}
	}
	select {
	case ev := <-s.errs:
		t.Errorf("server error event: %v", ev.err)
	default:
	}
	// Every session's goroutines end: the count is back to where it was
	// (goleak checks the exact set when the package ends).
	var left int
	testutil.Eventually(t, "the sessions' goroutines to end", func() bool {
		left = runtime.NumGoroutine()
		return left <= goroutines+10
	})
	if got := len(s.srv.Sessions()); got != 0 {
		t.Errorf("the server still lists %d sessions", got)
	}
	t.Logf("%d connections at once: Connect returned for all in %v, all sessions open after %v; one request each in %v; all disconnected in %v, all closed on both ends after %v; goroutines %d before, %d after",
		n, round(connectTook), round(openTook), round(requestTook),
		round(disconnectTook), round(closeTook), goroutines, left)
}

// TestMaxSessionsUnderFlood opens three times WithMaxSessions connections
// at once: exactly the limit get sessions, each of the others raises an
// error event with base.ErrTooManySessions and its client sees the
// connection closed within moments; the sessions that got in keep working.
func TestMaxSessionsUnderFlood(t *testing.T) {
	const limit, n = 20, 60
	s := startBaseServer(t, base.WithMaxSessions(limit))
	ctx := floodCtx(t)

	type closed struct {
		i      int
		reason base.CloseReason
		at     time.Time
	}
	closes := make(chan closed, n)
	clients := make([]*base.Client, n)
	for i := range clients {
		clients[i] = base.NewClient(native.New,
			base.OnDisconnected(func(_ *base.Session, r base.CloseReason) { closes <- closed{i, r, time.Now()} }))
		testutil.CloseClient(t, clients[i], clients[i])
	}
	dialed := make([]time.Time, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			dialed[i] = time.Now()
			if err := c.Connect(ctx, s.addr); err != nil {
				t.Errorf("Connect: %v (TCP connects; the server refuses afterwards)", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}

	for range n - limit {
		ev := testutil.Recv(t, s.errs, "a refusal error event")
		var ce *base.CloseError
		if ev.s != nil || !errors.As(ev.err, &ce) || ce.Reason != base.ReasonAcceptError || !errors.Is(ev.err, base.ErrTooManySessions) {
			t.Errorf("error event %v (session %v), want an accept error matching ErrTooManySessions", ev.err, ev.s)
		}
	}
	var lat durations
	reasons := reasonCounts{}
	refused := make([]bool, n)
	for range n - limit {
		ev := testutil.Recv(t, closes, "a refused client to see its connection close")
		refused[ev.i] = true
		lat = append(lat, ev.at.Sub(dialed[ev.i]))
		reasons[ev.reason]++
	}
	if lat.max() > 2*tolerance {
		t.Errorf("refused clients saw their connection close %v after dialing, want within %v", lat, 2*tolerance)
	}
	t.Logf("%d connections at once, %d sessions allowed: %d refused, their clients saw the close %v after dialing, with reasons %v",
		n, limit, n-limit, lat, reasons)

	if got := len(s.srv.Sessions()); got != limit {
		t.Errorf("the server has %d sessions, want %d", got, limit)
	}
	for range limit {
		testutil.Recv(t, s.opened, "an admitted session")
	}
	testutil.None(t, s.opened, "a session past the limit")
	for i, c := range clients {
		if refused[i] {
			if _, err := c.Request(testutil.Ctx(t), []byte("x")); !errors.Is(err, base.ErrClosed) {
				t.Errorf("request of a refused client: %v, want ErrClosed", err)
			}
			continue
		}
		if got, err := c.Request(testutil.Ctx(t), []byte("in")); err != nil || string(got) != "echo:in" {
			t.Errorf("request of an admitted client: %q, %v", got, err)
		}
	}
	select {
	case ev := <-closes:
		t.Errorf("an admitted client closed: %v", ev.reason)
	default:
	}
}

// TestRequestFloodBounded has one client send 1000 requests at once: the
// server never runs more than WithMaxConcurrentRequests handlers at once
// (and does reach that many), handles every request exactly once and
// answers each with its own result.
func TestRequestFloodBounded(t *testing.T) {
	const limit, n = 8, 1000
	var running, peak atomic.Int64
	var mu sync.Mutex
	handled := make(map[int]int, n)
	s := startTypedServer(t, func(srv *netmessage.Mux) {
		testutil.Must(t, netmessage.HandleRequest(srv, func(_ context.Context, _ *base.Session, w Work) (WorkDone, error) {
			now := running.Add(1)
			for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
			}
			mu.Lock()
			handled[w.ID]++
			mu.Unlock()
			time.Sleep(w.Hold) // the handler's work, so that handlers overlap
			running.Add(-1)
			return WorkDone{ID: w.ID}, nil
		}))
	}, netmessage.WithTransport(base.WithMaxConcurrentRequests(limit)))
	c := newTypedClient(t, nil)
	c.connect(t, s, s.addr)

	ctx := floodCtx(t)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got, err := netmessage.Request(ctx, c.c, Work{ID: i, Hold: time.Millisecond})
			if err == nil && got.ID != i {
				err = fmt.Errorf("request %d answered for %d", i, got.ID)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	took := time.Since(began)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if p := peak.Load(); p != limit {
		t.Errorf("at most %d handlers ran at once, want exactly the limit %d", p, limit)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(handled) != n {
		t.Errorf("%d distinct requests handled, want %d", len(handled), n)
	}
	for id, k := range handled {
		if k != 1 {
			t.Errorf("request %d handled %d times", id, k)
		}
	}
	t.Logf("%d requests at once, limit %d: peak %d handlers at once, all answered in %v (%.0f requests/s)",
		n, limit, peak.Load(), round(took), float64(n)/took.Seconds())
}
