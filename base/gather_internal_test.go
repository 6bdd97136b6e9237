package base

import (
	"testing"
	"time"
)

// TestGatherGuardsAfterSlowYield: a direct yield slower than maxGatherWait
// (a saturated scheduler) makes the writer yield through a goroutine, with
// a bounded wait, for guardedFor; fast direct yields keep it direct.
func TestGatherGuardsAfterSlowYield(t *testing.T) {
	s := &Session{closing: make(chan struct{}), wbuf: make([]byte, 10)}
	g := newGatherer(s)
	defer g.stop()
	directs := 0
	g.direct = func() bool { directs++; return true }
	if !g.gather() || directs != 1 {
		t.Fatalf("fast direct yield: %d direct yields, want 1", directs)
	}
	g.wrote(time.Now())
	if !g.guarded.IsZero() {
		t.Fatalf("fast direct yield: %d direct yields, guarded %v; want 1 and not guarded", directs, g.guarded)
	}
	g.direct = func() bool { directs++; time.Sleep(3 * maxGatherWait); return true }
	before := time.Now()
	if !g.gather() || directs != 2 {
		t.Fatalf("slow direct yield: %d direct yields, want 2", directs)
	}
	g.wrote(time.Now())
	if g.guarded.Before(before.Add(guardedFor)) {
		t.Fatalf("guarded until %v after a slow yield, want at least %v later", g.guarded, guardedFor)
	}
	// Guarded: the next round yields through the goroutine, not directly.
	if !g.gather() || directs != 2 {
		t.Fatalf("guarded round: %d direct yields, want still 2", directs)
	}
	if g.busy {
		<-g.done // the goroutine given up on; let it finish before the test ends
	}
	// Past the guard, direct again.
	g.guarded = time.Now().Add(-time.Millisecond)
	g.direct = func() bool { directs++; return true }
	g.gather() // notices the guard has passed
	g.gather()
	g.wrote(time.Now())
	if directs != 3 || !g.guarded.IsZero() {
		t.Fatalf("after the guard: %d direct yields, guarded %v; want 3 and not guarded", directs, g.guarded)
	}
}
