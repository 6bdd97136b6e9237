package sertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// Bomb is a hostile input for Unmarshal: a payload that declares far more
// than it carries, nests absurdly deep, or plays entity tricks. A Bomb
// without Want is a baseline: an ordinary payload of similar size that
// must decode, to compare allocations with.
type Bomb struct {
	Name string
	Data func() []byte // builds the payload, in the child process only
	New  func() any    // returns the target pointer
	Want []string      // substrings of the error
}

// Outcome is what a child process measured while decoding one Bomb.
type Outcome struct {
	Size  int           // payload bytes
	Alloc uint64        // bytes allocated during the call (MemStats.TotalAlloc)
	Time  time.Duration // duration of the call
	Err   string        // the error, "" if none
}

// Ratio is the allocation per payload byte.
func (o Outcome) Ratio() float64 { return float64(o.Alloc) / float64(max(o.Size, 1)) }

// Memory limits of a child process.
const (
	// HeapLimit is the heap size past which the child gives up (a watchdog
	// exits the process) and the soft memory limit it runs with.
	HeapLimit = 1 << 30
	// AddressSpace is how much address space the child may map beyond what
	// it has mapped when the case starts (Linux only, not with -race, whose
	// shadow memory needs more).
	AddressSpace = 2 << 30
)

// AllocBound is the most a bomb of n bytes may allocate: a small multiple
// of its size, plus room for the decoder's fixed costs. Ordinary payloads
// allocate up to about 64 times their size in encoding/xml, encoding/json
// and vmihailenco/msgpack (see the baselines); a bomb must not do worse.
func AllocBound(n int) uint64 { return 64*uint64(n) + 1<<20 }

const (
	envCase      = "SERTEST_BOMB_CASE"
	resultPrefix = "sertest-bomb-result: "
)

// RunBombs decodes each bomb with decode in a child process (this test
// binary, run again for the calling test only) under HeapLimit and
// AddressSpace, so that a bomb that gets through kills the child, not the
// tests. Each bomb must fail with an error containing its Want strings
// (or, for a baseline, decode), within AllocBound. It logs one line per
// bomb with the figures.
func RunBombs(t *testing.T, decode func(data []byte, v any) error, bombs []Bomb) {
	t.Helper()
	if name, ok := os.LookupEnv(envCase); ok {
		for _, b := range bombs {
			if b.Name == name {
				childDecode(t, decode, b)
				return
			}
		}
		t.Fatalf("no bomb named %q", name)
	}
	for _, b := range bombs {
		t.Run(b.Name, func(t *testing.T) {
			o, out, err := runChild(t, b.Name)
			if err != nil {
				t.Fatalf("child process for %q: %v\n%s", b.Name, err, tail(out))
			}
			t.Logf("%d bytes: allocated %d (%.1f per byte) in %v: %s", o.Size, o.Alloc, o.Ratio(), o.Time, o.Err)
			if len(b.Want) == 0 && o.Err != "" {
				t.Errorf("baseline failed to decode: %s", o.Err)
			}
			if len(b.Want) > 0 && o.Err == "" {
				t.Errorf("decoded without an error, want one containing %q", b.Want)
			}
			for _, w := range b.Want {
				if !strings.Contains(o.Err, w) {
					t.Errorf("error %q does not contain %q", o.Err, w)
				}
			}
			if limit := AllocBound(o.Size); o.Alloc > limit {
				t.Errorf("allocated %d bytes for %d, over the bound of %d", o.Alloc, o.Size, limit)
			}
		})
	}
}

// RunBlowup decodes data with decode in a child process under the same
// limits as RunBombs and fails unless the child runs out of memory or
// allocates more than HeapLimit: it pins down a library behaviour that
// the serializer must guard against.
func RunBlowup(t *testing.T, decode func(data []byte, v any) error, b Bomb) {
	t.Helper()
	if os.Getenv(envCase) == b.Name {
		childDecode(t, decode, b)
		return
	}
	o, out, err := runChild(t, b.Name)
	switch {
	case err != nil && strings.Contains(out, "out of memory"):
		t.Logf("the child ran out of memory: %s", firstLine(out, "out of memory"))
	case err != nil && strings.Contains(out, "heap limit"):
		t.Logf("the child passed the heap limit: %s", firstLine(out, "heap limit"))
	case err != nil:
		t.Fatalf("child process: %v\n%s", err, tail(out))
	case o.Alloc > HeapLimit:
		t.Logf("%d bytes: allocated %d bytes in %v", o.Size, o.Alloc, o.Time)
	default:
		t.Errorf("%d bytes: allocated only %d bytes (%s): the library no longer sizes from declared lengths; the guard may be revisited", o.Size, o.Alloc, o.Err)
	}
}

// runChild runs the current test again in a child process for the named
// case and returns its outcome.
func runChild(t *testing.T, name string) (Outcome, string, error) {
	t.Helper()
	top, _, _ := strings.Cut(t.Name(), "/")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+regexp.QuoteMeta(top)+"$", "-test.count=1", "-test.v")
	// GORACE: without -race it is ignored; with it, the child would sleep
	// a second at exit by default.
	cmd.Env = append(os.Environ(), envCase+"="+name, "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
	out, err := cmd.CombinedOutput()
	for line := range strings.Lines(string(out)) {
		if rest, ok := strings.CutPrefix(line, resultPrefix); ok {
			var o Outcome
			if jerr := json.Unmarshal([]byte(rest), &o); jerr != nil {
				return o, string(out), jerr
			}
			return o, string(out), err
		}
	}
	if err == nil {
		err = fmt.Errorf("no result line")
	}
	return Outcome{}, string(out), err
}

// childDecode runs in the child: it sets the limits, decodes b once and
// prints the outcome for the parent.
func childDecode(t *testing.T, decode func(data []byte, v any) error, b Bomb) {
	if err := limitAddressSpace(AddressSpace); err != nil {
		t.Logf("address space not limited: %v", err)
	}
	debug.SetMemoryLimit(HeapLimit)
	stop := watchHeap(HeapLimit)
	defer stop()

	data := b.Data()
	v := b.New()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	err := decode(data, v)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	o := Outcome{Size: len(data), Alloc: after.TotalAlloc - before.TotalAlloc, Time: elapsed}
	if err != nil {
		o.Err = err.Error()
	}
	line, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("\n%s%s\n", resultPrefix, line)
}

// watchHeap starts a goroutine that ends the process when the heap holds
// more than limit bytes; stop ends the goroutine.
func watchHeap(limit uint64) (stop func()) {
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
			if n := sample[0].Value.Uint64(); n > limit {
				fmt.Fprintf(os.Stderr, "\nsertest: heap limit: %d bytes of heap objects, over %d\n", n, limit)
				os.Exit(3)
			}
		}
	}()
	return func() {
		close(done)
		<-exited
	}
}

func tail(s string) string {
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}

func firstLine(s, substr string) string {
	for line := range strings.Lines(s) {
		if strings.Contains(line, substr) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// Items returns n items, for baseline payloads.
func Items(n int) []Item {
	items := make([]Item, n)
	for i := range items {
		items[i] = Item{Name: "item", Qty: int32(i), Price: 1.5}
	}
	return items
}
