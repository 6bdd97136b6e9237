package sertest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/serializers/internal/check"
)

// Bound is a serializer's decoded-size bound: Unmarshal of n bytes
// allocates at most Limit(n) bytes of heap, or refuses the input with
// check.ErrDecodeLimit; Estimate, if set, is its estimate for decoding
// data into v, which must be at least what decoding allocates.
type Bound struct {
	Limit    func(n int) uint64
	Estimate func(data []byte, v any) int64
}

// Payload is an input for RunBounded. An ordinary case must decode; a hostile
// one may be refused with check.ErrDecodeLimit (or with an error holding
// Want, if set).
type Payload struct {
	Name    string
	Data    func() []byte // builds the payload, in the child process only
	New     func() any    // returns the target pointer
	Hostile bool
	Want    []string // substrings of the error a hostile case must fail with
}

// boundOutcome is what a child process measured while decoding one Payload.
type boundOutcome struct {
	Outcome
	Estimate int64
	Refused  bool // the error matches check.ErrDecodeLimit
}

const boundPrefix = "sertest-bound-result: "

// RunBounded decodes each case with decode in a child process (as
// RunBombs does) and checks it against b: the measured allocation
// (MemStats.TotalAlloc around the call, on one goroutine, with the
// collector off) is within b.Limit and at most b.Estimate, unless the
// input was refused. It logs one line per case with the figures.
func RunBounded(t *testing.T, decode func(data []byte, v any) error, b Bound, cases []Payload) {
	t.Helper()
	if name, ok := os.LookupEnv(envCase); ok {
		for _, c := range cases {
			if c.Name == name {
				childBounded(t, decode, b, c)
				return
			}
		}
		t.Fatalf("no case named %q", name)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			_, out, err := runChild(t, c.Name)
			var o boundOutcome
			for line := range strings.Lines(out) {
				if rest, ok := strings.CutPrefix(line, boundPrefix); ok {
					if jerr := json.Unmarshal([]byte(rest), &o); jerr != nil {
						t.Fatal(jerr)
					}
					err = nil
				}
			}
			if err != nil || o.Size == 0 {
				t.Fatalf("child process for %q: %v\n%s", c.Name, err, tail(out))
			}
			limit := b.Limit(o.Size)
			t.Logf("%d bytes: allocated %d (%.1f per byte), estimate %d, limit %d, in %v: %s",
				o.Size, o.Alloc, o.Ratio(), o.Estimate, limit, o.Time, o.Err)
			switch {
			case o.Err != "" && !c.Hostile:
				t.Errorf("ordinary input failed to decode: %s", o.Err)
			case o.Err == "" && len(c.Want) > 0:
				t.Errorf("decoded without an error, want one containing %q", c.Want)
			case o.Err != "" && len(c.Want) == 0 && !o.Refused:
				t.Errorf("error %q does not match ErrDecodeLimit", o.Err)
			}
			for _, w := range c.Want {
				if !strings.Contains(o.Err, w) {
					t.Errorf("error %q does not contain %q", o.Err, w)
				}
			}
			if o.Alloc > limit {
				t.Errorf("allocated %d bytes for %d, over the limit of %d", o.Alloc, o.Size, limit)
			}
			if b.Estimate != nil && o.Err == "" && uint64(o.Estimate) < o.Alloc {
				t.Errorf("allocated %d bytes, over the estimate of %d", o.Alloc, o.Estimate)
			}
		})
	}
}

func childBounded(t *testing.T, decode func(data []byte, v any) error, b Bound, c Payload) {
	if err := limitAddressSpace(AddressSpace); err != nil {
		t.Logf("address space not limited: %v", err)
	}
	debug.SetMemoryLimit(HeapLimit)
	stop := watchHeap(HeapLimit)
	defer stop()
	data := c.Data()
	var o boundOutcome
	if b.Estimate != nil {
		o.Estimate = b.Estimate(data, c.New())
	}
	o.Outcome, o.Refused = measure(decode, data, c.New)
	line, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("\n%s%s\n", boundPrefix, line)
}

// measure decodes data into a value from newV twice and returns what the
// second call allocated: the first builds the per-type caches and pooled
// decoders, which are allocated once per process, not per payload.
func measure(decode func(data []byte, v any) error, data []byte, newV func() any) (Outcome, bool) {
	// One P: with more, another goroutine's allocations can be counted
	// in the window when its P's cache is flushed. The least of three
	// calls: the runtime now and then allocates for itself in the window.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	_ = decode(data, newV())
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var best Outcome
	var refused bool
	for i := range 3 {
		v := newV()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		err := decode(data, v)
		o := Outcome{Size: len(data), Time: time.Since(start)}
		runtime.ReadMemStats(&after)
		o.Alloc = after.TotalAlloc - before.TotalAlloc
		if err != nil {
			o.Err = err.Error()
		}
		if i == 0 || o.Alloc < best.Alloc {
			best, refused = o, errors.Is(err, check.ErrDecodeLimit)
		}
	}
	return best, refused
}

// Scale returns the element count n of a bound test's payload, an eighth
// of it under the race detector. The bounds are per input byte plus a
// constant, so a smaller payload checks the same thing; the race
// detector makes decoding a million elements several times slower, and
// it is there to find races, which a smaller payload finds as well.
func Scale(n int) int {
	if Race {
		return n / 8
	}
	return n
}

// Count names an element count in a test case's name: 1M for 1<<20, 128k
// for 1<<17, 25k for 25000.
func Count(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dM", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dk", n>>10)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}
