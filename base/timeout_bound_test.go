package base_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
)

// TestResponseTimeoutBound checks the documented bound of the response
// timeout (at most a sixteenth late) against a peer that never answers:
// for requests sent one after another (each starts the shared timer) and
// for requests sent while others wait (they share its ticks). Single
// timings suffer the machine's hiccups, so the median of each set is held
// to the bound plus 2 ms of timer latency, and every one to the bound plus
// a scheduling tolerance; none may fail early.
func TestResponseTimeoutBound(t *testing.T) {
	const rt = 200 * time.Millisecond
	bound := rt + rt/16
	p := newPair(t,
		[]base.ServerOption{base.OnRequest(blockUntilDone)},
		[]base.ClientOption{base.WithResponseTimeout(rt)})

	timed := func() time.Duration {
		start := time.Now()
		_, err := p.client.Request(ctxT(t), []byte("q"))
		d := time.Since(start)
		if !errors.Is(err, base.ErrRequestTimeout) {
			t.Errorf("Request: %v, want ErrRequestTimeout", err)
		}
		return d
	}
	check := func(what string, ds []time.Duration) {
		t.Helper()
		slices.Sort(ds)
		median := ds[len(ds)/2]
		t.Logf("%s: %d requests timed out after %v to %v, median %v (bound %v)", what, len(ds), ds[0], ds[len(ds)-1], median, bound)
		if ds[0] < rt {
			t.Errorf("%s: a request timed out after %v, before the timeout %v", what, ds[0], rt)
		}
		if median > bound+2*time.Millisecond {
			t.Errorf("%s: median %v, over the bound %v", what, median, bound)
		}
		if ds[len(ds)-1] > bound+tolerance {
			t.Errorf("%s: slowest %v, over the bound %v + %v", what, ds[len(ds)-1], bound, tolerance)
		}
	}

	var lone []time.Duration
	for range 5 {
		lone = append(lone, timed())
	}
	check("one at a time", lone)

	// 40 requests sent 10 ms apart: most join the ticks of a running timer.
	var mu sync.Mutex
	var shared []time.Duration
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			d := timed()
			mu.Lock()
			shared = append(shared, d)
			mu.Unlock()
		})
		time.Sleep(10 * time.Millisecond)
	}
	wg.Wait()
	check("sharing the timer", shared)
}
