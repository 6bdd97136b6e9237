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

// TestBoxer: a boxed value is an ordinary interface value of its type,
// equal to the value behind it, that keeps that memory alive for the
// collector, without allocating; types of a word or less are boxed as
// usual.
func TestBoxer(t *testing.T) {
	b := newBoxer[boxedWide]()
	if b.typ == nil {
		t.Fatal("a struct of more than a word is boxed as usual")
	}
	want := boxedWide{N: 7, Text: "seven", Tags: []string{"a", "b"}}
	p := new(boxedWide)
	*p = want
	v := b.of(p)
	p = nil
	runtime.GC() // the interface alone must keep the memory and what it refers to
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
	q := &boxedWide{N: 3}
	if n := testing.AllocsPerRun(100, func() { v = b.of(q) }); n != 0 {
		t.Errorf("%v allocations per box, want 0", n)
	}
	q.N = 4 // the boxed value is the memory behind it
	if got := v.(boxedWide).N; got != 4 {
		t.Errorf("boxed value reads N %d after its memory changed to 4", got)
	}

	if newBoxer[boxedPointer]().typ != nil || newBoxer[boxedWord]().typ != nil || newBoxer[int]().typ != nil {
		t.Error("a type of a word or less is boxed over the caller's memory")
	}
	x := 3
	bp := &boxedPointer{P: &x}
	v = newBoxer[boxedPointer]().of(bp)
	bp.P = nil
	if v.(boxedPointer).P != &x {
		t.Errorf("boxedPointer boxed to %#v", v)
	}
}
