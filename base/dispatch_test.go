package base_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
)

// Handlers that block run side by side up to the limit, and no further:
// the first limit requests meet at a barrier that opens only once all of
// them are in their handlers; the rest are queued and run as places free.
func TestHandlersRunConcurrentlyUpToTheLimit(t *testing.T) {
	const limit, total = 8, 40
	var (
		mu      sync.Mutex
		running int
		peak    int
		arrived int
		barrier = make(chan struct{})
	)
	handler := func(ctx context.Context, _ *base.Session, q []byte) []byte {
		mu.Lock()
		running++
		peak = max(peak, running)
		arrived++
		if arrived == limit {
			close(barrier)
		}
		mu.Unlock()
		select {
		case <-barrier:
		case <-ctx.Done():
		case <-time.After(waitTime):
		}
		mu.Lock()
		running--
		mu.Unlock()
		return q
	}
	p := newPair(t,
		[]base.ServerOption{base.OnRequest(handler), base.WithMaxConcurrentRequests(limit)},
		[]base.ClientOption{base.WithResponseTimeout(2 * waitTime)})
	ctx := ctxT(t)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range total {
		wg.Go(func() {
			q := fmt.Sprint(i)
			resp, err := p.client.Request(ctx, []byte(q))
			if err != nil || string(resp) != q {
				t.Errorf("request %d: %q, %v", i, resp, err)
			}
		})
	}
	wg.Wait()
	if d := time.Since(start); d >= waitTime {
		t.Errorf("requests took %v: the first %d handlers did not run together", d, limit)
	}
	mu.Lock()
	defer mu.Unlock()
	if peak != limit {
		t.Errorf("at most %d handlers ran at once, want %d", peak, limit)
	}
}
