package testutil

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// StallWatch measures how late this process gets to run: a goroutine asks
// to wake every few milliseconds and records the worst lateness. A test
// that measures time or throughput uses it to tell a broken promise from
// a machine too busy to run the test.
type StallWatch struct {
	worst atomic.Int64 // nanoseconds
	stop  chan struct{}
	done  chan struct{}
}

// WatchStalls starts a StallWatch that stops when the test ends.
func WatchStalls(t testing.TB) *StallWatch {
	w := &StallWatch{stop: make(chan struct{}), done: make(chan struct{})}
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
			if late := int64(now.Sub(last) - tick); late > w.worst.Load() {
				w.worst.Store(late)
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

// Worst returns the longest stall since the watch started or was reset.
func (w *StallWatch) Worst() time.Duration { return time.Duration(w.worst.Load()) }

// Reset forgets the stalls seen so far.
func (w *StallWatch) Reset() { w.worst.Store(0) }

// Fatalf fails the test, unless the process stalled long enough to explain
// the failure: then the attempt is inconclusive and skipped (see
// Attempts). budget is the delay the test can absorb; one stall of over
// half of it counts, as a process that runs in short bursts delays a
// goroutine over several scheduling rounds.
func (w *StallWatch) Fatalf(t testing.TB, budget time.Duration, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if s := w.Worst(); s > budget/2 {
		t.Skipf("inconclusive: the process stalled for %v, over half the %v this test allows: %s", s, budget, msg)
	}
	t.Fatalf("%s (worst stall %v, under half the %v allowed)", msg, w.Worst(), budget)
}

// Attempts runs body as up to three subtests, going on only while an
// attempt was inconclusive (skipped by StallWatch.Fatalf); a real failure
// fails at once. If no attempt was conclusive, the test skips.
func Attempts(t *testing.T, body func(t *testing.T, w *StallWatch)) {
	t.Helper()
	for i := range 3 {
		passed := false
		t.Run(fmt.Sprintf("attempt %d", i+1), func(t *testing.T) {
			w := WatchStalls(t)
			body(t, w)
			passed = true
		})
		if passed || t.Failed() {
			return
		}
	}
	t.Skip("inconclusive: the machine was too busy on every attempt")
}
