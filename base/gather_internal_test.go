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
	fast := func() bool { directs++; return true }
	// fastRound runs a round with a fast direct yield and checks that it
	// leaves the writer unguarded. A busy machine can stall the test
	// between the yield and the write for longer than maxGatherWait, which
	// rightly guards: such a round, too slow by the test's own clock to
	// tell, is run again.
	fastRound := func(what string) {
		t.Helper()
		g.direct = fast
		for try := 1; ; try++ {
			before := directs
			start := time.Now()
			if !g.gather() || directs != before+1 {
				t.Fatalf("%s: %d direct yields, want %d", what, directs, before+1)
			}
			g.wrote(time.Now())
			if time.Since(start) < maxGatherWait {
				if !g.guarded.IsZero() {
					t.Fatalf("%s: guarded until %v after a fast yield", what, g.guarded)
				}
				return
			}
			if try == 100 {
				t.Skipf("%s: no round in %d took less than %v: too busy a machine to tell", what, try, maxGatherWait)
			}
			g.guarded = time.Time{}
		}
	}
	// finish waits for a yielding goroutine given up on, as the writer's
	// loop does.
	finish := func() {
		if g.busy {
			<-g.done
			g.busy = false
		}
	}

	fastRound("fast direct yield")
	g.direct = func() bool { directs++; time.Sleep(3 * maxGatherWait); return true }
	n := directs
	before := time.Now()
	if !g.gather() || directs != n+1 {
		t.Fatalf("slow direct yield: %d direct yields, want %d", directs, n+1)
	}
	g.wrote(time.Now())
	if g.guarded.Before(before.Add(guardedFor)) {
		t.Fatalf("guarded until %v after a slow yield, want at least %v later", g.guarded, guardedFor)
	}
	// Guarded: the next round yields through the goroutine, not directly.
	n = directs
	if !g.gather() || directs != n {
		t.Fatalf("guarded round: %d direct yields, want still %d", directs, n)
	}
	finish()
	// Past the guard: the next round notices (and still yields through
	// the goroutine), the ones after it are direct again.
	g.guarded = time.Now().Add(-time.Millisecond)
	if !g.gather() || directs != n || !g.guarded.IsZero() {
		t.Fatalf("round past the guard: %d direct yields, guarded %v; want still %d and not guarded", directs, g.guarded, n)
	}
	finish()
	fastRound("after the guard")
}
