package tests

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

const burst = 1000

// TestMessageBurstInOrder sends 1000 messages each way at the same time and
// checks that each end receives all of them, intact and in order.
func TestMessageBurstInOrder(t *testing.T) {
	eachProfile(t, func(t *testing.T, sc profile) {
		atServer, atClient := make(chan Tick, burst), make(chan Tick, burst)
		s, c := newPair(t, sc,
			func(srv *netmessage.Mux) {
				testutil.Must(t, netmessage.HandleMessage(srv, func(_ context.Context, _ *base.Session, m Tick) { atServer <- m }))
			},
			func(cl *netmessage.Mux) {
				testutil.Must(t, netmessage.HandleMessage(cl, func(_ context.Context, _ *base.Session, m Tick) { atClient <- m }))
			})

		var wg sync.WaitGroup
		sendAll := func(p *base.Session, from string) {
			defer wg.Done()
			for i := range burst {
				if err := netmessage.Send(testutil.Ctx(t), p, Tick{N: i, Text: fmt.Sprintf("%s ✉ %d", from, i)}); err != nil {
					t.Errorf("%s: send %d: %v", from, i, err)
					return
				}
			}
		}
		wg.Add(2)
		go sendAll(c.c.Session(), "client")
		go sendAll(c.sess, "server")
		wg.Wait()

		for _, dir := range []struct {
			from string
			ch   chan Tick
		}{{"client", atServer}, {"server", atClient}} {
			for i := range burst {
				m := testutil.Recv(t, dir.ch, fmt.Sprintf("message %d from the %s", i, dir.from))
				if want := (Tick{N: i, Text: fmt.Sprintf("%s ✉ %d", dir.from, i)}); m != want {
					t.Fatalf("message %d from the %s arrived as %+v", i, dir.from, m)
				}
			}
			testutil.None(t, dir.ch, "message past the burst")
		}
		noErrors(t, "server", s.ev)
		noErrors(t, "client", c.ev)
	})
}

// TestConcurrentRequests has 8 goroutines on each end send 25 requests each
// (200 per direction, both directions at once) and checks that every
// request is handled exactly once and answered with its own values.
func TestConcurrentRequests(t *testing.T) {
	const workers, perWorker = 8, 25
	eachProfile(t, func(t *testing.T, sc profile) {
		type key struct{ worker, seq int }
		var mu sync.Mutex
		handled := map[string]map[key]int{"server": {}, "client": {}}
		inFlight, maxInFlight := map[string]int{}, map[string]int{}
		// Each worker's first request waits until all workers' first
		// requests are being handled, so that the handlers provably run
		// concurrently.
		firstWave := map[string]chan struct{}{"server": make(chan struct{}), "client": make(chan struct{})}
		arrived := map[string]int{}
		handler := func(end string) func(context.Context, Add) (Sum, error) {
			return func(ctx context.Context, a Add) (Sum, error) {
				mu.Lock()
				handled[end][key{a.Worker, a.Seq}]++
				inFlight[end]++
				maxInFlight[end] = max(maxInFlight[end], inFlight[end])
				if a.Seq == 0 {
					if arrived[end]++; arrived[end] == workers {
						close(firstWave[end])
					}
				}
				mu.Unlock()
				defer func() { mu.Lock(); inFlight[end]--; mu.Unlock() }()
				if a.Seq == 0 {
					select {
					case <-firstWave[end]:
					case <-ctx.Done():
						return Sum{}, ctx.Err()
					}
				}
				return Sum{Worker: a.Worker, Seq: a.Seq, Total: a.A + a.B}, nil
			}
		}
		s, c := newPair(t, sc,
			func(srv *netmessage.Mux) {
				h := handler("server")
				testutil.Must(t, netmessage.HandleRequest(srv, func(ctx context.Context, _ *base.Session, a Add) (Sum, error) { return h(ctx, a) }))
			},
			func(cl *netmessage.Mux) {
				h := handler("client")
				testutil.Must(t, netmessage.HandleRequest(cl, func(ctx context.Context, _ *base.Session, a Add) (Sum, error) { return h(ctx, a) }))
			})

		var wg sync.WaitGroup
		start := make(chan struct{})
		run := func(p *base.Session, name string, w int) {
			defer wg.Done()
			<-start
			for i := range perWorker {
				a := Add{Worker: w, Seq: i, A: w * 1000, B: i}
				got, err := netmessage.Request(testutil.Ctx(t), p, a)
				if err != nil {
					t.Errorf("%s worker %d request %d: %v", name, w, i, err)
					return
				}
				if want := (Sum{Worker: w, Seq: i, Total: w*1000 + i}); got != want {
					t.Errorf("%s worker %d request %d: got %+v, want %+v", name, w, i, got, want)
				}
			}
		}
		for w := range workers {
			wg.Add(2)
			go run(c.c.Session(), "client", w)
			go run(c.sess, "server", w)
		}
		close(start)
		wg.Wait()

		mu.Lock()
		defer mu.Unlock()
		for end, m := range handled {
			if len(m) != workers*perWorker {
				t.Errorf("%s handled %d distinct requests, want %d", end, len(m), workers*perWorker)
			}
			for k, n := range m {
				if n != 1 {
					t.Errorf("%s handled worker %d request %d %d times", end, k.worker, k.seq, n)
				}
			}
			if maxInFlight[end] < workers {
				t.Errorf("%s: at most %d handlers ran at once, want at least %d", end, maxInFlight[end], workers)
			}
		}
		noErrors(t, "server", s.ev)
		noErrors(t, "client", c.ev)
	})
}
