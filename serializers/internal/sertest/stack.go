package sertest

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// StackOf returns the goroutine stack, in bytes, that unmarshal takes to
// decode data into a value from newV: the growth of MemStats.StackInuse
// while 64 goroutines that decoded it wait, per goroutine.
func StackOf(t *testing.T, unmarshal func([]byte, any) error, data []byte, newV func() any) uint64 {
	t.Helper()
	const n = 64
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ready, release := make(chan error), make(chan struct{})
	for range n {
		go func() {
			ready <- unmarshal(data, newV())
			<-release
		}()
	}
	var err error
	for range n {
		if e := <-ready; e != nil && err == nil {
			err = e
		}
	}
	runtime.ReadMemStats(&after)
	close(release)
	if err != nil {
		t.Fatal(err)
	}
	return (after.StackInuse - before.StackInuse) / n
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
