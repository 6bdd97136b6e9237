package msgpack

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	vmsgpack "github.com/vmihailenco/msgpack/v5"
)

type fastLevel int8

type fastInner struct {
	Name  string
	Level fastLevel
	Raw   []byte
}

type fastAll struct {
	ID      uint64
	Method  string
	Seq     uint32
	OK      bool
	Score   float64
	Ratio   float32
	Tags    []string
	Data    []byte
	I8      int8
	I16     int16
	I32     int32
	Int     int
	U8      uint8
	U16     uint16
	Uint    uint
	Renamed string `msgpack:"r"`
	Skipped string `msgpack:"-"`
	hidden  int
	Inner   fastInner
	Items   []fastInner
	Nums    []int16
	Grid    [][]uint8x
}

// uint8x is a named byte: a slice of it is bytes to the library, as any
// slice of a byte kind.
type uint8x uint8

type fastNode struct {
	Value int
	Kids  []fastNode
}

// fastMarker has no fields, as netmessage.Returns.
type fastMarker[T any] struct{}

// FastAll is fastAll under an exported name, which an embedded field
// takes: the library sets such a field whole, under its name.
type FastAll = fastAll

// fastRequest embeds as a typed request does: its fields are fastAll's,
// inlined, and Extra.
type fastRequest struct {
	fastMarker[int]
	FastAll
	Extra int
}

// Types the fast path leaves to the library.
type (
	fastShadowed struct {
		Name string
		fastInner
	}
	fastEmbeddedPtr struct {
		*fastInner
		X int
	}
	fastOmit struct {
		A string `msgpack:"a,omitempty"`
	}
	fastPtr  struct{ P *int }
	fastMap  struct{ M map[string]int }
	fastTime struct{ T time.Time }
	fastArr  struct{ A [3]int }
	fastAny  struct{ V any }
)

func TestFastForEligibility(t *testing.T) {
	for _, v := range []any{fastAll{}, fastNode{}, fastInner{}, fastRequest{}} {
		if fastFor(reflect.TypeOf(v)) == nil {
			t.Errorf("%T: no fast codec, want one", v)
		}
	}
	for _, v := range []any{fastShadowed{}, fastEmbeddedPtr{}, fastOmit{}, fastPtr{}, fastMap{}, fastTime{}, fastArr{}, fastAny{}, 3, "s", []int{}} {
		if fastFor(reflect.TypeOf(v)) != nil {
			t.Errorf("%T: a fast codec, want the general way", v)
		}
	}
}

func sampleAll(rng *rand.Rand) fastAll {
	s := func() string { return string(make([]byte, rng.IntN(40))) + "é" }
	v := fastAll{
		ID: rng.Uint64(), Method: s(), Seq: rng.Uint32(), OK: rng.IntN(2) == 1,
		Score: rng.Float64(), Ratio: float32(rng.Float64()),
		I8: int8(rng.Int()), I16: int16(rng.Int()), I32: int32(rng.Int()), Int: rng.Int() - rng.Int(),
		U8: uint8(rng.Int()), U16: uint16(rng.Int()), Uint: uint(rng.Uint64()),
		Renamed: s(), Skipped: s(), hidden: 7,
		Inner: fastInner{Name: s(), Level: fastLevel(rng.IntN(256) - 128)},
	}
	if rng.IntN(8) == 0 {
		v.Score, v.Ratio = math.NaN(), math.Float32frombits(0x7f800001) // a signalling NaN
	}
	if rng.IntN(3) > 0 {
		v.Tags = []string{s(), s(), ""}
	}
	if rng.IntN(3) > 0 {
		v.Data = make([]byte, rng.IntN(300))
	}
	for range rng.IntN(4) {
		v.Items = append(v.Items, fastInner{Name: s(), Raw: []byte(s())})
	}
	if rng.IntN(2) == 0 {
		v.Nums = []int16{1, -1, 300, -300}
		v.Grid = [][]uint8x{{1, 2}, nil, {}}
	}
	return v
}

// TestFastMatchesLibrary: on inputs encoded every way the serializer and
// the library encode, and on mutations of them, decodeFast either gives up
// or gives the value the general way gives (the checks, then the library),
// decoding into zero and into non-zero values; it decodes every unmutated
// input itself.
func TestFastMatchesLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	encoders := []Serializer{New(), New(StructsAsArrays()), New(CompactIntegers()), New(StructsAsArrays(), CompactIntegers())}
	var fast, general, both int
	for i := range 600 {
		v := sampleAll(rng)
		seed, err := encoders[i%len(encoders)].Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		prefill := sampleAll(rng)
		for m := range 16 {
			in := seed
			if m > 0 {
				in = mutate(rng, seed)
			}
			for _, start := range []*fastAll{{}, &prefill} {
				ok, gotErr := compareFast(t, in, *start)
				if m == 0 && !ok {
					t.Fatalf("the fast path gave up on an unmutated input: % x", in)
				}
				switch {
				case ok:
					fast++
				case gotErr:
					general++
				default:
					both++
				}
			}
		}
	}
	// Embedded structs: inlined fields, and the whole embedded struct
	// under its own name.
	for i := range 300 {
		v := fastRequest{FastAll: sampleAll(rng), Extra: rng.Int()}
		seed, err := encoders[i%len(encoders)].Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			inner, err := New().Marshal(sampleAll(rng))
			if err != nil {
				t.Fatal(err)
			}
			seed = append(append([]byte{0x81, 0xa7}, "FastAll"...), inner...)
		}
		for m := range 16 {
			in := seed
			if m > 0 {
				in = mutate(rng, seed)
			}
			if ok, _ := compareFast(t, in, fastRequest{}); m == 0 && !ok {
				t.Fatalf("the fast path gave up on an unmutated request: % x", in)
			}
		}
	}
	// The library cannot set an embedded struct of an unexported type
	// whole (it fails on nil): such a key is left to it.
	for _, in := range [][]byte{append([]byte{0x81, 0xaa}, "fastMarker\xc0"...), append([]byte{0x81, 0xaa}, "fastMarker\x90"...)} {
		if ok, _ := compareFast(t, in, fastRequest{Extra: 3}); ok {
			t.Errorf("the fast path decoded % x, an unexported embedded struct set whole", in)
		}
	}
	var node fastNode
	for range 5 {
		node = fastNode{Value: rng.Int(), Kids: []fastNode{node, {Value: -1}}}
	}
	seed, err := New().Marshal(node)
	if err != nil {
		t.Fatal(err)
	}
	for m := range 2000 {
		in := seed
		if m > 0 {
			in = mutate(rng, seed)
		}
		if ok, _ := compareFast(t, in, fastNode{}); m == 0 && !ok {
			t.Fatal("the fast path gave up on an unmutated tree")
		}
	}
	t.Logf("decoded by the fast path: %d; given up, the general way failing: %d, succeeding: %d", fast, general, both)
	if fast < 4000 || general == 0 || both == 0 {
		t.Errorf("too few cases of a kind: %d %d %d", fast, general, both)
	}
}

// compareFast decodes in into a copy of start both ways and fails t if the
// fast path decoded it to something else than the general way. It reports
// whether the fast path decoded it, and whether the general way failed.
func compareFast[T any](t *testing.T, in []byte, start T) (fastOK, generalFailed bool) {
	t.Helper()
	want := clone(t, start)
	gerr := checkInput(in, planFor(reflect.TypeFor[T]()), false)
	if gerr == nil {
		gerr = decode(in, &want)
	}
	got := clone(t, start)
	ok := decodeFast(fastFor(reflect.TypeFor[T]()), in, reflect.ValueOf(&got).UnsafePointer())
	if ok && gerr != nil {
		t.Fatalf("input % x: the fast path decoded %+v, the general way failed: %v", in, got, gerr)
	}
	if ok && !sameValue(got, want) {
		t.Fatalf("input % x:\nfast    %+v\ngeneral %+v", in, got, want)
	}
	return ok, gerr != nil
}

// sameValue reports whether a and b are equal, NaNs equal to themselves:
// deeply equal, or else written alike by the library (which tells nil and
// empty apart, and keeps a NaN's bits) and printed alike (which shows the
// fields the library leaves out).
func sameValue[T any](a, b T) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	x, errX := vmsgpack.Marshal(a)
	y, errY := vmsgpack.Marshal(b)
	return errX == nil && errY == nil && bytes.Equal(x, y) && fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b)
}

// clone returns a deep copy of v (through the library, which keeps nil and
// empty apart), with the fields it does not carry copied by hand.
func clone[T any](t *testing.T, v T) T {
	b, err := vmsgpack.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	if err := vmsgpack.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	switch a := any(&out).(type) {
	case *fastAll:
		src := any(v).(fastAll)
		a.Skipped, a.hidden = src.Skipped, src.hidden
	case *fastRequest:
		src := any(v).(fastRequest)
		a.Skipped, a.hidden = src.Skipped, src.hidden
	}
	return out
}

// TestFastEncodesAsLibrary: the fast path writes the bytes the library
// writes, with each of the serializer's options, for values and pointers.
func TestFastEncodesAsLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var node fastNode
	for range 4 {
		node = fastNode{Value: rng.Int() - rng.Int(), Kids: []fastNode{node, {Value: -1}, {}}}
	}
	values := []any{node, &node, fastInner{}, &fastInner{Raw: []byte{}}}
	for range 300 {
		v := sampleAll(rng)
		v.Int, v.Uint, v.I8, v.U16 = rng.IntN(300)-150, uint(rng.IntN(70000)), int8(rng.IntN(64)-32), uint16(rng.IntN(300))
		if rng.IntN(4) == 0 {
			v.Data = make([]byte, 70000) // bin32, and a str16 or str32 below
			v.Method = string(v.Data[:rng.IntN(2)*69000+300])
			v.Items = make([]fastInner, 17) // array16
		}
		values = append(values, v, &v, fastRequest{FastAll: v, Extra: rng.Int()})
	}
	for _, opts := range [][]Option{nil, {StructsAsArrays()}, {CompactIntegers()}, {StructsAsArrays(), CompactIntegers()}} {
		s := New(opts...)
		for _, v := range values {
			if sourceFor(reflect.TypeOf(v)).fast == nil {
				t.Fatalf("%T: no fast encoder", v)
			}
			got, err := s.MarshalAppend([]byte{1, 2}, v)
			if err != nil {
				t.Fatal(err)
			}
			var want bytes.Buffer
			enc := vmsgpack.NewEncoder(&want)
			enc.UseArrayEncodedStructs(s.arrays)
			enc.UseCompactInts(s.compact)
			if err := enc.Encode(v); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got[2:], want.Bytes()) || got[0] != 1 || got[1] != 2 {
				t.Fatalf("%T with %+v:\nfast    % x\nlibrary % x", v, s, got[2:], want.Bytes())
			}
		}
	}
	var nilPtr *fastInner
	if got, err := New().Marshal(nilPtr); err != nil || !bytes.Equal(got, []byte{nilCode}) {
		t.Errorf("nil pointer: % x, %v; want c0", got, err)
	}
}

// fastPacket is the benchmark suite's small packet (tests/bench), as a
// typed request embeds it.
type fastPacket struct {
	fastMarker[int]
	ID     uint64
	Method string
	Seq    uint32
	OK     bool
	Score  float64
	Tags   []string
	Data   []byte
}

// BenchmarkPlain compares, for a plain packet, small and with 16 KiB of
// bytes, the fast path with the general way: the library's encoding, and
// the checks and the library's decoding.
func BenchmarkPlain(b *testing.B) {
	large := make([]byte, 16<<10)
	for i := range large {
		large[i] = 'a' + byte(i%26)
	}
	for _, size := range []struct {
		name string
		data []byte
	}{{"small", nil}, {"16KiB", large}} {
		b.Run(size.name, func(b *testing.B) {
			benchPlain(b, fastPacket{ID: 0x1234567, Method: "Catalogue.Lookup", Seq: 42, OK: true, Score: 0.75, Tags: []string{"alpha", "beta", "gamma"}, Data: size.data})
		})
	}
}

func benchPlain(b *testing.B, v fastPacket) {
	s := New()
	data, err := s.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, len(data))
	b.Run("marshal/fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf, _ = s.MarshalAppend(buf[:0], &v)
		}
	})
	b.Run("marshal/library", func(b *testing.B) {
		b.ReportAllocs()
		w := &sliceWriter{}
		enc := vmsgpack.NewEncoder(w)
		for b.Loop() {
			w.b = buf[:0]
			if err := enc.Encode(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unmarshal/fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var out fastPacket
			if err := s.Unmarshal(data, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unmarshal/general", func(b *testing.B) {
		b.ReportAllocs()
		p := planFor(reflect.TypeFor[fastPacket]())
		for b.Loop() {
			var out fastPacket
			if err := checkInput(data, p, false); err != nil {
				b.Fatal(err)
			}
			if err := decode(data, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzFastMatchesLibrary: whatever the input, the fast path gives up or
// decodes what the general way decodes.
func FuzzFastMatchesLibrary(f *testing.F) {
	rng := rand.New(rand.NewPCG(5, 6))
	encoders := []Serializer{New(), New(StructsAsArrays()), New(CompactIntegers()), New(StructsAsArrays(), CompactIntegers())}
	for i := range 8 {
		seed, err := encoders[i%len(encoders)].Marshal(fastRequest{FastAll: sampleAll(rng), Extra: i})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in []byte) { compareFast(t, in, fastRequest{}) })
}

// fastExtPoint is given an extension encoding of its own with the
// library's RegisterExtEncoder, which the fast path cannot see but must
// not overrule.
type fastExtPoint struct{ X, Y int32 }

type fastWithExt struct {
	Name string
	At   fastExtPoint
}

func TestFastLeavesRegisteredTypes(t *testing.T) {
	vmsgpack.RegisterExtEncoder(17, fastExtPoint{}, func(_ *vmsgpack.Encoder, v reflect.Value) ([]byte, error) {
		p := v.Interface().(fastExtPoint)
		return []byte{byte(p.X), byte(p.Y)}, nil
	})
	if fastFor(reflect.TypeFor[fastWithExt]()) != nil || sourceFor(reflect.TypeFor[fastWithExt]()).fast != nil {
		t.Fatal("a struct with a field of a registered type takes the fast path")
	}
	got, err := New().Marshal(fastWithExt{Name: "a", At: fastExtPoint{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	want, err := vmsgpack.Marshal(fastWithExt{Name: "a", At: fastExtPoint{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Marshal: % x, want the library's % x", got, want)
	}
}

// fastCelsius is given a decoding of its own with the library's
// RegisterExtDecoder: a decoder only, which encoding the zero value does
// not show.
type fastCelsius struct{ Deg int }

type fastWeather struct {
	City string
	T    fastCelsius
}

func TestFastLeavesRegisteredDecoders(t *testing.T) {
	vmsgpack.RegisterExtDecoder(18, fastCelsius{}, func(d *vmsgpack.Decoder, v reflect.Value, _ int) error {
		n, err := d.DecodeInt()
		v.Set(reflect.ValueOf(fastCelsius{Deg: n}))
		return err
	})
	if fastFor(reflect.TypeFor[fastWeather]()) != nil {
		t.Fatal("a struct with a field of a type with a registered decoder takes the fast path")
	}
}

// TestFastReusesByteSlices: decoding into a byte slice with room reuses
// its array, as the library does (a value decoded into again keeps its
// buffers).
func TestFastReusesByteSlices(t *testing.T) {
	buf := make([]byte, 8)
	start := fastInner{Name: "x", Raw: buf[:4]}
	in, err := New().Marshal(fastInner{Name: "y", Raw: []byte("ab")})
	if err != nil {
		t.Fatal(err)
	}
	got := start
	if !decodeFast(fastFor(reflect.TypeFor[fastInner]()), in, unsafe.Pointer(&got)) {
		t.Fatal("the fast path gave up")
	}
	if string(got.Raw) != "ab" || &got.Raw[0] != &buf[0] {
		t.Errorf("Raw = %q at %p, want %q in the target's array at %p", got.Raw, &got.Raw[0], "ab", &buf[0])
	}
}

// TestFastOwnsItsBytes: the strings and byte slices decoded from a large
// input are copies (the input may be reused) that do not overlap (appending
// to one leaves the others), and the short ones share a few allocations.
func TestFastOwnsItsBytes(t *testing.T) {
	want := fastAll{
		Method: "Catalogue.Lookup", Tags: []string{"alpha", "beta", strings.Repeat("g", 100)},
		Data:  bytes.Repeat([]byte("d"), 2000),
		Inner: fastInner{Name: "inner", Raw: []byte("raw")},
		Items: []fastInner{{Name: "a", Raw: []byte("x")}, {Name: "b", Raw: []byte("yz")}},
	}
	in, err := New().Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var got fastAll
	if !decodeFast(fastFor(reflect.TypeFor[fastAll]()), in, unsafe.Pointer(&got)) {
		t.Fatal("the fast path gave up")
	}
	for i := range in {
		in[i] = 0xff
	}
	for _, raw := range [][]byte{got.Inner.Raw, got.Items[0].Raw, got.Items[1].Raw} {
		if cap(raw) != len(raw) {
			t.Errorf("%q: capacity %d, want its length", raw, cap(raw))
		}
		_ = append(raw, '!', '!', '!', '!')
	}
	if !reflect.DeepEqual(want, got) {
		t.Errorf("after the input was overwritten and the byte slices appended to:\n got %+v\nwant %+v", got, want)
	}

	// A 16 KiB packet: its bytes, one chunk for its four short strings,
	// and its []string.
	large, err := New().Marshal(fastPacket{Method: "Catalogue.Lookup", Tags: []string{"alpha", "beta", "gamma"}, Data: make([]byte, 16<<10)})
	if err != nil {
		t.Fatal(err)
	}
	c := fastFor(reflect.TypeFor[fastPacket]())
	var p fastPacket
	allocs := testing.AllocsPerRun(100, func() {
		p = fastPacket{}
		if !decodeFast(c, large, unsafe.Pointer(&p)) {
			t.Fatal("the fast path gave up")
		}
	})
	if allocs != 3 {
		t.Errorf("%v allocations to decode a 16 KiB packet, want 3", allocs)
	}
}

// TestFastQuietsNaN: a float32 signalling NaN comes out quiet both ways,
// as through the library, which passes float32 values through float64.
func TestFastQuietsNaN(t *testing.T) {
	type f32 struct{ F float32 }
	snan := math.Float32frombits(0x7f800001)
	got, err := New().Marshal(f32{snan})
	if err != nil {
		t.Fatal(err)
	}
	want, err := vmsgpack.Marshal(f32{snan})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Marshal: % x, want the library's % x", got, want)
	}
	in := []byte{0x81, 0xa1, 'F', 0xca, 0x7f, 0x80, 0x00, 0x01}
	var fast, lib f32
	if !decodeFast(fastFor(reflect.TypeFor[f32]()), in, unsafe.Pointer(&fast)) {
		t.Fatal("the fast path gave up")
	}
	if err := vmsgpack.Unmarshal(in, &lib); err != nil {
		t.Fatal(err)
	}
	if a, b := math.Float32bits(fast.F), math.Float32bits(lib.F); a != b {
		t.Errorf("decoded %#x, the library %#x", a, b)
	}
}
