package base_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/netmessage-go/netmessage/base"
)

// TestHandlerGoroutineLingers: requests served one at a time run on one
// handler goroutine, which waits a moment for the next request instead of
// ending after each, and ends when the session has been without requests
// for that moment.
func TestHandlerGoroutineLingers(t *testing.T) {
	p := newPair(t, []base.ServerOption{
		base.OnRequest(func(_ context.Context, _ *base.Session, q []byte) []byte { return q }),
	}, nil)
	before := runtime.NumGoroutine()
	most := before
	for range 200 {
		if _, err := p.client.Request(ctxT(t), []byte("x")); err != nil {
			t.Fatal(err)
		}
		most = max(most, runtime.NumGoroutine())
	}
	if most > before+1 {
		t.Errorf("%d goroutines during sequential requests, %d before: want one handler goroutine at most", most, before)
	}
	until(t, "the lingering handler goroutine to end", func() bool { return runtime.NumGoroutine() <= before })
}
