package base_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// until polls cond until it holds, failing the test after waitTime.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTime)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// gate is a request handler that holds every request until opened, and
// counts how many it holds at once.
type gate struct {
	open    chan struct{}
	running atomic.Int64
	peak    atomic.Int64
}

func newGate() *gate { return &gate{open: make(chan struct{})} }

func (g *gate) handler(ctx context.Context, _ *base.Session, payload []byte) []byte {
	n := g.running.Add(1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	select {
	case <-g.open:
	case <-ctx.Done():
	}
	g.running.Add(-1)
	return []byte("ok")
}

// steady checks, in a bubble once every goroutine is blocked, that the
// gate holds exactly n requests and never held more (when the limits
// work, no further request gets through).
func (g *gate) steady(t *testing.T, n int64) {
	t.Helper()
	synctest.Wait()
	if got := g.running.Load(); got != n {
		t.Fatalf("%d requests in handlers, want %d", got, n)
	}
	if got := g.peak.Load(); got != n {
		t.Fatalf("%d requests in handlers at once, want %d", got, n)
	}
}

// request sends n concurrent requests of size bytes on c and returns a
// function that waits for their answers.
func request(t *testing.T, c *base.Client, n, size int) func() {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			if _, err := c.Request(ctxT(t), make([]byte, size)); err != nil {
				errs <- err
			}
		})
	}
	return func() {
		t.Helper()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
}

func TestDecodeCostCountsAgainstSessionLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate()
		p := newMemPair(t, []base.ServerOption{
			base.OnRequest(g.handler),
			base.WithMaxQueuedBytes(1 << 20),
			base.WithDecodeCost(16, 0), // 100 KiB counts as 1.7 MiB: one at a time
		}, nil)
		wait := request(t, p.client, 5, 100<<10)
		g.steady(t, 1)
		close(g.open)
		wait()
	})
}

func TestInflightBudgetAcrossSessions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate()
		srv := base.NewServer(native.New,
			base.OnRequest(g.handler),
			// Each request counts about 100 KiB: a session holds 2 within its
			// 256 KiB allowance, which the budget does not count; a third
			// needs about 44 KiB of the 50 KiB budget: one session's third
			// gets in, and every other request waits for it.
			base.WithDecodeCost(0, 100<<10),
			base.WithMaxInflightBytes(50<<10))
		ln := newMemListener()
		serveMem(t, srv, ln)
		var waits []func()
		for range 4 {
			c := base.NewClient(native.New, base.WithDialer(ln.dial))
			if err := c.Connect(context.Background(), "server"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			waits = append(waits, request(t, c, 5, 10))
		}
		g.steady(t, 9)
		// The budget holds the one third request's part past its session's
		// allowance; each session's next request waits for it.
		if used, waiting := base.InflightState(srv); used <= 0 || used > 50<<10 || waiting != 4 {
			t.Errorf("budget: %d bytes used, %d takes waiting; want 1 to 50 KiB and 4", used, waiting)
		}
		close(g.open)
		for _, w := range waits {
			w()
		}
		until(t, "the budget to empty", func() bool { used, _ := base.InflightState(srv); return used == 0 })
	})
}

// partial returns the first n bytes of a request frame of size bytes.
func partial(t *testing.T, size, n int) []byte {
	return frame(t, base.KindRequest, 1, strings.Repeat("x", size))[:n]
}

func TestInflightBudgetPausesLargePackets(t *testing.T) {
	rec := newRecorder()
	srv := base.NewServer(native.New, rec.server(
		base.OnRequest(func(context.Context, *base.Session, []byte) []byte { return []byte("ok") }),
		base.WithMaxInflightBytes(256<<10))...)
	addr := serve(t, srv)

	// The first peer holds a part of a 1 MiB packet: its buffer takes
	// most of the budget.
	holder := dialRaw(t, addr)
	holder.send(preface, partial(t, 1<<20, 200<<10))
	held := receive(t, rec.opened, "holder's session")
	until(t, "the holder's buffer to take from the budget", func() bool { used, _ := base.InflightState(srv); return used > 64<<10 })

	// The second sends a whole 1 MiB request: it waits for room.
	sender := dialRaw(t, addr)
	whole := frame(t, base.KindRequest, 7, strings.Repeat("y", 1<<20))
	wrote := make(chan error, 1)
	go func() {
		_, err := sender.conn.Write(append(append([]byte{}, preface...), whole...))
		wrote <- err
	}()
	receive(t, rec.opened, "sender's session")
	until(t, "the sender to wait for room", func() bool { _, w := base.InflightState(srv); return w == 1 })

	held.Close()
	if err := receive(t, wrote, "the sender's write"); err != nil {
		t.Fatal(err)
	}
	sender.expect(base.KindResponse, "ok")
	until(t, "the budget to empty", func() bool { used, w := base.InflightState(srv); return used == 0 && w == 0 })
}

// TestInflightBudgetPastAllowance: a session whose messages queue past its
// 256 KiB allowance takes the part past it from the server's budget, and
// gives all of it back once its hook has caught up, though it stays open
// and sends nothing more.
func TestInflightBudgetPastAllowance(t *testing.T) {
	hold := make(chan struct{})
	var handled atomic.Int64
	srv := base.NewServer(native.New,
		base.OnMessage(func(context.Context, *base.Session, []byte) {
			<-hold
			handled.Add(1)
		}),
		base.WithMaxInflightBytes(4<<20))
	addr := serve(t, srv)
	c := base.NewClient(native.New)
	if err := c.Connect(ctxT(t), addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	const n, size = 100, 8 << 10 // 800 KiB: past the allowance
	for range n {
		if err := c.SendMessage(ctxT(t), make([]byte, size)); err != nil {
			t.Fatal(err)
		}
	}
	// All but the first (which the hook holds) queue: about 544 KiB past
	// the allowance.
	until(t, "the budget to count the part past the allowance", func() bool {
		used, _ := base.InflightState(srv)
		return used >= 500<<10
	})
	if used, _ := base.InflightState(srv); used > 700<<10 {
		t.Errorf("budget: %d bytes used for about 544 KiB past the allowance", used)
	}
	close(hold)
	until(t, "the hook to catch up", func() bool { return handled.Load() == n })
	until(t, "the budget to empty", func() bool { used, _ := base.InflightState(srv); return used == 0 })
}
