package msgpack

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/netmessage-go/netmessage/serializers/internal/check"
)

// TestAllocBounds checks the two bounds the rates rest on (see rate.go)
// over every size up to 4 MiB and past it.
func TestAllocBounds(t *testing.T) {
	for x := int64(0); x <= 4<<20+3<<13; x++ {
		if a := check.Alloc(x); 4*a > 64+5*x {
			t.Fatalf("Alloc(%d) = %d, over 16 + 1.25x", x, a)
		}
		if a := check.AllocOf(x, true); 4*a > 104+5*x {
			t.Fatalf("AllocOf(%d) = %d, over 26 + 1.25x", x, a)
		}
	}
	for n := int64(0); n <= 1<<20; n++ {
		if c := stringCost(n, true); c > rateString*(n+1) {
			t.Fatalf("a %d-byte string costs %d, over %d per byte", n, c, rateString)
		}
		if c := 2 * check.Alloc(n); c > rateBytes*(n+1) {
			t.Fatalf("%d bytes cost %d, over %d per byte", n, c, rateBytes)
		}
	}
}

type rateFlat struct {
	ID     uint64
	Method string
	OK     bool
	Score  float64
	Tags   []string
	Data   []byte
	Nums   []uint64
	Small  []int8
	Fixed  [3]string
	Pairs  []rateItem
	Nested [][]string
}

type rateItem struct {
	A, B string
	N    int32
}

type rateUnbounded struct {
	M map[string]int
}

type ratePointer struct {
	P *rateItem
}

type rateAny struct {
	V any
}

// TestRates checks which types have a bounded rate.
func TestRates(t *testing.T) {
	for _, c := range []struct {
		v       any
		bounded bool
	}{
		{rateFlat{}, true}, {rateItem{}, true}, {[]string{}, true}, {"", true}, {int64(0), true},
		{rateUnbounded{}, false}, {ratePointer{}, false}, {rateAny{}, false}, {map[string]string{}, false},
	} {
		r := planFor(reflect.TypeOf(c.v)).rate
		if (r != unbounded) != c.bounded {
			t.Errorf("%T: rate %d, want bounded %v", c.v, r, c.bounded)
		}
	}
}

// TestRateBoundsEstimate: for input into a type of bounded rate, hostile
// or not, scan's estimate is at most the rate times the input's size, so
// that checkInput may skip it for input small enough; and checkInput's
// verdict is the full check's.
func TestRateBoundsEstimate(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	s := New()
	seed := func(v rateFlat) []byte {
		b, err := s.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	seeds := [][]byte{
		seed(rateFlat{}),
		seed(rateFlat{ID: 7, Method: "Catalogue.Lookup", Tags: []string{"alpha", "beta", ""}, Data: []byte("xyz"),
			Nums: []uint64{1, 1 << 40}, Small: []int8{-1, 2}, Fixed: [3]string{"a", "", "c"},
			Pairs: []rateItem{{A: "k", B: "v", N: 3}, {}}, Nested: [][]string{{"x"}, {}, nil}}),
		// Hostile shapes: many empty elements, repeated keys.
		append([]byte("\x81\xa4Tags\xdc\x01\x00"), make([]byte, 256)...),
		append([]byte("\x81\xa5Pairs\xdc\x01\x00"), repeat(0x80, 256)...),
		append([]byte("\x81\xa6Nested\xdc\x01\x00"), repeat(0x90, 256)...),
		append([]byte("\x81\xa5Small\xdc\x01\x00"), make([]byte, 256)...),
		append([]byte("\xde\x00\x40"), repeatString("\xa4Nums\x91\x01", 64)...),
	}
	p := planFor(reflect.TypeFor[rateFlat]())
	if p.rate == unbounded {
		t.Fatal("rateFlat has no bounded rate")
	}
	checked := 0
	for range 200000 {
		d := mutate(rng, seeds[rng.IntN(len(seeds))])
		cost, err := scan(d, p, false)
		if err == nil {
			checked++
			if cost > p.rate*int64(len(d)) {
				t.Fatalf("%q: estimate %d, over rate %d x %d bytes", d, cost, p.rate, len(d))
			}
		}
		full := err
		if err == nil && cost > check.Limit(len(d), fixedHeap) {
			full = check.OverLimit(len(d), cost, fixedHeap)
		}
		if got := checkInput(d, p, false); (got == nil) != (full == nil) {
			t.Fatalf("%q: checkInput %v, full check %v", d, got, full)
		}
	}
	t.Logf("%d inputs accepted by the framing check", checked)
}

// mutate returns a copy of seed with up to four random changes: a byte
// replaced, the input cut short, a byte inserted, or a run of up to 16
// bytes repeated.
func mutate(rng *rand.Rand, seed []byte) []byte {
	d := append([]byte(nil), seed...)
	for range rng.IntN(5) {
		if len(d) == 0 {
			break
		}
		i := rng.IntN(len(d))
		switch rng.IntN(4) {
		case 0:
			d[i] = byte(rng.IntN(256))
		case 1:
			d = d[:i]
		case 2:
			d = append(d[:i], append([]byte{byte(rng.IntN(256))}, d[i:]...)...)
		case 3:
			d = append(d[:i], append(append([]byte(nil), d[i:min(len(d), i+rng.IntN(16))]...), d[i:]...)...)
		}
	}
	return d
}

func repeat(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

func repeatString(s string, n int) []byte {
	var out []byte
	for range n {
		out = append(out, s...)
	}
	return out
}

// TestCheckFraming: checkFraming's verdicts and errors are scan's into
// skipPlan, on mutated packets and on nesting around its stack's room and
// the limit.
func TestCheckFraming(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	same := func(d []byte) {
		t.Helper()
		_, want := scan(d, skipPlan, false)
		got := checkFraming(d)
		if (got == nil) != (want == nil) || (got != nil && got.Error() != want.Error()) {
			t.Fatalf("%q: checkFraming %v, scan %v", d, got, want)
		}
	}
	for _, open := range []string{"\x91", "\x81\xa1a", "\x92\x01", "\x81\xc0", "\xdc\x00\x01"} {
		for n := range maxDepth + 4 {
			same(append([]byte(strings.Repeat(open, n)), 0xc0))
			same([]byte(strings.Repeat(open, n)))
		}
	}
	seeds := [][]byte{[]byte("\x82\xa1a\x01\xa1b\x92\xc2\xc3"), []byte("\xdd\xff\xff\xff\xff"), []byte("\xc4\x02ab"), []byte("\xc7\x01\x05x")}
	for _, v := range []any{rateFlat{Method: "m", Tags: []string{"a", ""}, Pairs: []rateItem{{A: "x"}}, Nested: [][]string{{"y"}}}, rateAny{V: map[string]any{"k": []any{1, "two", 3.0}}}} {
		b, err := New().Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	for range 200000 {
		same(mutate(rng, seeds[rng.IntN(len(seeds))]))
	}
}
