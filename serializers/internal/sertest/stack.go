package sertest

import (
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
)

// StackOf returns the goroutine stack, in bytes, that unmarshal takes to
// decode data into a value from newV: the growth of MemStats.StackInuse
// while 64 goroutines that decoded it wait, per goroutine.
func StackOf(t *testing.T, unmarshal func([]byte, any) error, data []byte, newV func() any) uint64 {
	t.Helper()
	const n = 64
	var before, after runtime.MemStats
	// The collector stays off while the stacks are measured: it may shrink
	// other goroutines' stacks meanwhile, and the goroutines are waited for
	// before StackOf returns, so that freeing theirs does not fall into a
	// later measurement.
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	runtime.ReadMemStats(&before)
	ready, release := make(chan error), make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			ready <- unmarshal(data, newV())
			<-release
		})
	}
	var err error
	for range n {
		if e := <-ready; e != nil && err == nil {
			err = e
		}
	}
	runtime.ReadMemStats(&after)
	close(release)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	// Stacks freed by goroutines outside the measurement can still lower
	// the total: that is no stack used here.
	return uint64(max(int64(after.StackInuse)-int64(before.StackInuse), 0)) / n
}

// Allocs returns the bytes f allocates (MemStats.TotalAlloc), measured
// with the collector off after a collection, as RunBounded measures.
func Allocs(f func()) uint64 {
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
