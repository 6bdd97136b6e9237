package testutil

import (
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
