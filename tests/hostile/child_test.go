package hostile

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// Memory limits of a child process.
const (
	// heapLimit is the heap size past which the child gives up (a watchdog
	// ends the process) and the soft memory limit it runs with.
	heapLimit = 1 << 30
	// addressSpace is how much address space the child may map beyond what
	// it has mapped when it starts the test (Linux only, not with -race).
	addressSpace = 2 << 30
)

const envChild = "HOSTILE_CHILD_TEST"

// inChild runs the calling test in a child process (this test binary, run
// again for this test only) under memory limits, so that a payload that
// gets through kills the child, not the suite. In the parent it waits for
// the child, relays its "figure:" lines and its failure, and returns true:
// the caller returns. In the child it sets the limits and returns false:
// the caller runs the test body.
func inChild(t *testing.T) bool {
	t.Helper()
	if os.Getenv(envChild) == t.Name() {
		limitMemory(t)
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1", "-test.v")
	// GORACE: without -race it is ignored; with it, the child would sleep
	// a second at exit by default.
	cmd.Env = append(os.Environ(), envChild+"="+t.Name(), "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
	out, err := cmd.CombinedOutput()
	for line := range strings.Lines(string(out)) {
		if _, fig, ok := strings.Cut(line, "figure: "); ok {
			t.Log("figure: " + strings.TrimSpace(fig))
		}
	}
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		if len(out) > 8000 {
			out = append([]byte("..."), out[len(out)-8000:]...)
		}
		t.Fatalf("child process: %v\n%s", err, out)
	}
	return true
}

// limitMemory caps the child's address space (where possible), sets a
// soft memory limit and starts a watchdog that ends the process when the
// heap passes heapLimit; the watchdog stops when the test ends.
func limitMemory(t *testing.T) {
	if err := limitAddressSpace(addressSpace); err != nil {
		t.Logf("address space not limited: %v", err)
	}
	debug.SetMemoryLimit(heapLimit)
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			metrics.Read(sample)
			if n := sample[0].Value.Uint64(); n > heapLimit {
				fmt.Fprintf(os.Stderr, "\nhostile: heap limit: %d bytes of heap objects, over %d\n", n, heapLimit)
				os.Exit(3)
			}
		}
	}()
	t.Cleanup(func() {
		close(done)
		<-exited
	})
}
