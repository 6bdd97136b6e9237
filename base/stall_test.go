package base_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// stallWatch measures how late this process gets to run: a goroutine asks to
// wake every few milliseconds and records the worst lateness. Tests whose
// margin is a few hundred milliseconds (heartbeats) use it to tell a broken
// promise from a machine too busy to run the test at all.
type stallWatch struct {
	worstNs atomic.Int64
	stop    chan struct{}
	done    chan struct{}
}

func watchStalls(t *testing.T) *stallWatch {
	w := &stallWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		const tick = 5 * time.Millisecond
		timer := time.NewTimer(tick)
		defer timer.Stop()
		last := time.Now()
		for {
			select {
			case <-w.stop:
				return
			case <-timer.C:
			}
			now := time.Now()
			if late := now.Sub(last) - tick; int64(late) > w.worstNs.Load() {
				w.worstNs.Store(int64(late))
			}
			last = now
			timer.Reset(tick)
		}
	}()
	t.Cleanup(func() {
		close(w.stop)
		<-w.done
	})
	return w
}

// worst returns the longest stall seen so far.
func (w *stallWatch) worst() time.Duration { return time.Duration(w.worstNs.Load()) }

// fatalf fails the test, unless the process stalled long enough to explain
// the failure: then the attempt is inconclusive and skipped. budget is the
// delay the test can absorb; a single stall of over half of it counts,
// because a process that runs in short bursts delays a goroutine's wakeup
// over several scheduling rounds (and a Read whose deadline has passed by
// the time it runs reports a timeout even if the bytes had arrived).
func (w *stallWatch) fatalf(t *testing.T, budget time.Duration, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if s := w.worst(); s > budget/2 {
		t.Skipf("inconclusive: the process stalled for %v, over half the %v this test allows: %s", s, budget, msg)
	}
	t.Fatalf("%s (worst stall %v, under half the %v allowed)", msg, w.worst(), budget)
}

// stallRetry runs body as up to three attempts, going on only while an
// attempt was inconclusive (skipped by stallWatch.fatalf). A real failure
// fails at once.
func stallRetry(t *testing.T, body func(t *testing.T, w *stallWatch)) {
	t.Helper()
	for i := range 3 {
		passed := false
		t.Run(fmt.Sprintf("attempt %d", i+1), func(t *testing.T) {
			w := watchStalls(t)
			body(t, w)
			passed = true
			t.Logf("worst stall of the process: %v", w.worst())
		})
		if passed || t.Failed() {
			return
		}
	}
	t.Skip("inconclusive: the machine was too busy on every attempt")
}

// stayOpen asserts that none of the ends closed for a short while.
func (w *stallWatch) stayOpen(t *testing.T, budget time.Duration, recs map[string]*recorder) {
	t.Helper()
	deadline := time.After(100 * time.Millisecond)
	for {
		for name, rec := range recs {
			select {
			case r := <-rec.closed:
				w.fatalf(t, budget, "unexpected %s close: %v", name, r.String())
			default:
			}
		}
		select {
		case <-deadline:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}
