package netmessage

import (
	"reflect"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type boxedWide struct {
	N    int
	Text string
	Tags []string
}

type boxedPointer struct{ P *int }

type boxedWord struct{ N uint32 }

// TestBoxes: a boxed value is an ordinary interface value of its type,
// equal to what was boxed, that the collector keeps alive; release zeroes
// its memory before reusing it.
func TestBoxes(t *testing.T) {
	b := newBoxes[boxedWide]()
	if b.typ == nil {
		t.Fatal("a struct of more than a word is boxed as usual")
	}
	want := boxedWide{N: 7, Text: "seven", Tags: []string{"a", "b"}}
	v, p := b.box(want)
	if p == nil {
		t.Fatal("no reused memory behind the boxed value")
	}
	runtime.GC() // the interface alone must keep p's memory and what it refers to
	runtime.GC()
	if got := reflect.TypeOf(v); got != reflect.TypeFor[boxedWide]() {
		t.Fatalf("boxed value is a %v, want boxedWide", got)
	}
	got, ok := v.(boxedWide)
	if !ok {
		t.Fatalf("boxed value does not assert to boxedWide: %#v", v)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("boxed value (-want +got):\n%s", diff)
	}
	if !reflect.DeepEqual(v, any(want)) {
		t.Error("boxed value does not equal the same value boxed by the runtime")
	}
	b.release(p)
	if !reflect.ValueOf(*p).IsZero() {
		t.Errorf("released memory holds %+v, want it zeroed", *p)
	}

	// Types of a word or less go the runtime's way.
	if newBoxes[boxedPointer]().typ != nil || newBoxes[boxedWord]().typ != nil || newBoxes[int]().typ != nil {
		t.Error("a type of a word or less is boxed in reused memory")
	}
	x := 3
	v, p2 := newBoxes[boxedPointer]().box(boxedPointer{P: &x})
	if p2 != nil || v.(boxedPointer).P != &x {
		t.Errorf("boxedPointer boxed to %#v, %v", v, p2)
	}
}

// TestBoxesReuse: a released box's memory serves a later box, and a value
// boxed again is not changed by releasing the first.
func TestBoxesReuse(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop entries at random")
	}
	b := newBoxes[boxedWide]()
	_, p := b.box(boxedWide{N: 1})
	b.release(p)
	v, q := b.box(boxedWide{N: 2, Text: "two"})
	if q != p {
		t.Skip("the pool dropped the released memory (a collection ran)")
	}
	if got := v.(boxedWide); got.N != 2 || got.Text != "two" {
		t.Errorf("reused box holds %+v", got)
	}
	if n := testing.AllocsPerRun(100, func() {
		_, p := b.box(boxedWide{N: 3, Text: "three"})
		b.release(p)
	}); n != 0 {
		t.Errorf("%v allocations per box and release, want 0", n)
	}
}
