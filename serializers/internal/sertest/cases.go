package sertest

import (
	"math"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Format names a wire format; it matches the serializer's Name.
type Format string

// The formats under test.
const (
	JSON    Format = "json"
	XML     Format = "xml"
	MsgPack Format = "msgpack"
)

// Case is one value to round-trip through a serializer.
type Case struct {
	Name  string
	Value any        // passed to Marshal
	New   func() any // returns a pointer to a new zero value of Value's type
	// WantErr, if non-nil, means the format cannot carry Value: Marshal
	// must fail with an error containing every one of these substrings.
	WantErr []string
	// TypeErr means the rejection is by type, so Unmarshal into New() must
	// fail with the same substrings too.
	TypeErr bool
}

type reject struct {
	want    []string
	typeErr bool
}

type entry struct {
	name    string
	value   any
	new     func() any
	rejects map[Format]reject
}

func newOf[T any]() func() any { return func() any { return new(T) } }

func byType(want ...string) reject  { return reject{want: want, typeErr: true} }
func byValue(want ...string) reject { return reject{want: want} }

// Cases returns the corpus with the expectations of format f.
func Cases(f Format) []Case {
	var cs []Case
	for _, e := range corpus() {
		c := Case{Name: e.name, Value: e.value, New: e.new}
		if r, ok := e.rejects[f]; ok {
			c.WantErr, c.TypeErr = r.want, r.typeErr
		}
		cs = append(cs, c)
	}
	return cs
}

// Options returns the cmp options that state what format f preserves.
// JSON and XML keep a time's instant and UTC offset (not the zone name);
// MessagePack keeps only the instant. XML does not distinguish nil from
// empty slices.
func Options(f Format) []cmp.Option {
	opts := []cmp.Option{cmp.Comparer(SameInstantAndOffset)}
	switch f {
	case MsgPack:
		opts = []cmp.Option{cmp.Comparer(SameInstant)}
	case XML:
		opts = append(opts, cmpopts.EquateEmpty())
	}
	return opts
}

// SameInstant reports whether a and b are the same instant.
func SameInstant(a, b time.Time) bool { return a.Equal(b) }

// SameInstantAndOffset reports whether a and b are the same instant with the
// same UTC offset; zone names may differ.
func SameInstantAndOffset(a, b time.Time) bool {
	_, ao := a.Zone()
	_, bo := b.Zone()
	return a.Equal(b) && ao == bo
}

// NewSmall returns the small benchmark packet.
func NewSmall() Small {
	return Small{
		ID:     1234567,
		Method: "Chat.Send",
		Seq:    42,
		OK:     true,
		Score:  0.75,
		Sent:   time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC),
	}
}

// NewLarge returns the large benchmark packet, with a 16 KiB payload of
// printable ASCII (so that XML can carry it too).
func NewLarge() Large {
	p := make([]byte, 16<<10)
	for i := range p {
		p[i] = 'a' + byte(i%26)
	}
	return Large{ID: 7, Name: "blob", Payload: p}
}

func corpus() []entry {
	utc := time.Date(2024, 2, 29, 23, 59, 58, 123456789, time.UTC)
	ist := time.FixedZone("IST", 5*3600+30*60)
	pdt := time.FixedZone("PDT", -7*3600)
	local := time.Date(2024, 2, 29, 23, 59, 58, 987654321, ist)
	one, zero := 1, 0
	str, empty := "pointed", ""
	pone := &one
	return []entry{
		{name: "nested", value: Envelope{
			Header: Header{ID: 1, Method: "Svc.Call", Tags: []string{"a", "b"}},
			Items:  []Item{{Name: "x", Qty: 2, Price: 1.5}, {Name: "y", Qty: -1}},
			Note:   "n",
			Reply:  &Header{ID: 2, Method: "Svc.Reply"},
		}, new: newOf[Envelope]()},
		{name: "embedded", value: Embedding{Header: Header{ID: 3, Method: "M"}, Extra: "e"}, new: newOf[Embedding]()},
		{name: "zero values", value: Scalars{}, new: newOf[Scalars]()},
		{name: "extreme scalars", value: Scalars{
			B: true, I: math.MinInt, I8: math.MinInt8, I16: math.MaxInt16, I32: math.MinInt32, I64: math.MaxInt64,
			U: math.MaxUint, U8: math.MaxUint8, U16: math.MaxUint16, U32: math.MaxUint32, U64: math.MaxUint64,
			F32: math.MaxFloat32, F64: math.SmallestNonzeroFloat64, S: "s",
		}, new: newOf[Scalars]()},
		{name: "slices", value: Slices{
			Ints: []int{1, -2, 3}, Strings: []string{"a", "", "c"}, Items: []Item{{Name: "i"}},
			Bools: []bool{true, false}, Floats: []float64{0.1, -2e300}, Blobs: [][]byte{[]byte("ab"), []byte("cd")},
			Empty: []int{},
		}, new: newOf[Slices]()},
		{name: "maps", value: Maps{
			Counts: map[string]int{"a": 1, "b": 2},
			ByName: map[string]Item{"x": {Name: "x", Qty: 1}},
			Lists:  map[string][]string{"l": {"1", "2"}},
			ByID:   map[int64]string{-5: "neg", 1 << 40: "big"},
			Empty:  map[string]int{},
		}, new: newOf[Maps](), rejects: map[Format]reject{
			XML: byType("sertest.Maps", "field Counts (map[string]int)", "no representation for Go maps"),
		}},
		{name: "time utc nanoseconds", value: Times{
			At: utc, Old: time.Date(1969, 7, 20, 20, 17, 40, 1, time.UTC), Far: time.Date(2500, 1, 1, 0, 0, 0, 999999999, time.UTC),
			Ptr: &utc, List: []time.Time{utc, utc.Add(time.Nanosecond)},
		}, new: newOf[Times]()},
		{name: "time fixed zones", value: Times{
			At: local, Old: time.Date(1969, 7, 20, 13, 17, 40, 1, pdt), Far: time.Date(2500, 1, 1, 0, 0, 0, 5, ist),
			Ptr: &local, List: []time.Time{local, utc.In(pdt)},
		}, new: newOf[Times]()},
		{name: "pointers", value: Pointers{
			Int: &one, Zero: &zero, Str: &str, EmptyStr: &empty, Item: &Item{Name: "p"},
		}, new: newOf[Pointers]()},
		{name: "pointer to pointer", value: PointerToPointer{P: &pone}, new: newOf[PointerToPointer](), rejects: map[Format]reject{
			XML: byType("sertest.PointerToPointer", "field P (**int)", "cannot decode pointers to pointers"),
		}},
		{name: "nil pointer elements", value: PointerSlice{Items: []*Item{{Name: "a"}, nil}}, new: newOf[PointerSlice](),
			rejects: map[Format]reject{XML: byValue("sertest.PointerSlice", "field Items ([]*sertest.Item)", "element 1 is nil")}},
		{name: "empty struct", value: Empty{}, new: newOf[Empty]()},
		{name: "empty struct fields", value: WithEmpty{P: &Empty{}, Name: "w"}, new: newOf[WithEmpty]()},
		{name: "unicode", value: Text{
			Body: "héllo wörld — 世界 🌍 e\u0301 עברית \u2028 \ufeff \U0010FFFD",
			Note: "<tag a=\"x\">&amp; ]]> '\t\r\n  trailing  ",
		}, new: newOf[Text]()},
		{name: "string with NUL and 0x04", value: Text{Body: "ok", Note: "a\x00b\x04c"}, new: newOf[Text](),
			rejects: map[Format]reject{XML: byValue("sertest.Text", "field Note (string)", "U+0000", "not allowed in XML 1.0")}},
		{name: "string with 0x04", value: Text{Body: "eot\x04"}, new: newOf[Text](),
			rejects: map[Format]reject{XML: byValue("sertest.Text", "field Body (string)", "U+0004", "not allowed in XML 1.0")}},
		{name: "invalid UTF-8 string", value: Text{Note: "ok\xff\xfe"}, new: newOf[Text](), rejects: map[Format]reject{
			JSON: byValue("sertest.Text", "field Note (string)", "invalid UTF-8 byte 0xff at offset 2"),
			XML:  byValue("sertest.Text", "field Note (string)", "invalid UTF-8 byte 0xff at offset 2"),
		}},
		{name: "bytes with NUL and 0x04", value: Binary{Data: []byte{'a', 0, 4, 0xff, 0x80}, Name: "bin"}, new: newOf[Binary](),
			rejects: map[Format]reject{XML: byValue("sertest.Binary", "field Data ([]uint8)", "U+0000 at byte offset 1")}},
		{name: "printable bytes", value: Binary{Data: []byte("plain <text> & bytes\n"), Name: "txt"}, new: newOf[Binary]()},
		{name: "nil bytes", value: Binary{}, new: newOf[Binary]()},
		{name: "top-level string", value: "héllo, 世界", new: newOf[string]()},
		{name: "top-level int64", value: int64(-1 << 40), new: newOf[int64]()},
		{name: "top-level time", value: local, new: newOf[time.Time]()},
		{name: "top-level bytes", value: []byte{0, 4, 0xff}, new: newOf[[]byte](), rejects: map[Format]reject{
			XML: byType("[]uint8", "unnamed type []uint8"),
		}},
		{name: "top-level slice", value: []Item{{Name: "a"}}, new: newOf[[]Item](), rejects: map[Format]reject{
			XML: byType("[]sertest.Item", "top-level slice"),
		}},
		{name: "top-level map", value: map[string]int{"a": 1}, new: newOf[map[string]int](), rejects: map[Format]reject{
			XML: byType("map[string]int", "no representation for Go maps"),
		}},
		{name: "recursive tree", value: Tree{Name: "root", Children: []Tree{
			{Name: "a", Children: []Tree{{Name: "a1"}, {Name: "a2"}}}, {Name: "b"},
		}}, new: newOf[Tree]()},
		{name: "interface field", value: Dynamic{Value: "a string"}, new: newOf[Dynamic](), rejects: map[Format]reject{
			XML: byType("sertest.Dynamic", "field Value (interface {})", "cannot decode into interface"),
		}},
		{name: "array fields", value: Arrays{Fixed: [3]int{1, 2, 3}, Hash: [4]byte{0, 4, 0xfe, 0xff}}, new: newOf[Arrays](),
			rejects: map[Format]reject{XML: byType("sertest.Arrays", "field Fixed ([3]int)", "cannot decode them")}},
		{name: "nested slices", value: Matrix{Rows: [][]int{{1, 2}, {3}}}, new: newOf[Matrix](), rejects: map[Format]reject{
			XML: byType("sertest.Matrix", "field Rows ([][]int)", "flattens nested slices"),
		}},
		{name: "channel field", value: WithChan{}, new: newOf[WithChan](), rejects: map[Format]reject{
			JSON:    byType("sertest.WithChan", "field C (chan int)", "no representation for chan"),
			XML:     byType("sertest.WithChan", "field C (chan int)", "no representation for chan"),
			MsgPack: byType("sertest.WithChan", "field C (chan int)", "no representation for chan"),
		}},
		{name: "func field", value: WithFunc{}, new: newOf[WithFunc](), rejects: map[Format]reject{
			JSON:    byType("sertest.WithFunc", "field F (func())", "no representation for func"),
			XML:     byType("sertest.WithFunc", "field F (func())", "no representation for func"),
			MsgPack: byType("sertest.WithFunc", "field F (func())", "no representation for func"),
		}},
		{name: "complex field", value: WithComplex{C: 1 + 2i}, new: newOf[WithComplex](), rejects: map[Format]reject{
			JSON:    byType("sertest.WithComplex", "field C (complex128)", "no representation for complex128"),
			XML:     byType("sertest.WithComplex", "field C (complex128)", "no representation for complex128"),
			MsgPack: byType("sertest.WithComplex", "field C (complex128)", "no representation for complex128"),
		}},
		{name: "uintptr field", value: WithUintptr{P: 42}, new: newOf[WithUintptr](), rejects: map[Format]reject{
			MsgPack: byType("sertest.WithUintptr", "field P (uintptr)", "no encoder for uintptr"),
		}},
		{name: "struct map keys", value: PointKeys{Names: map[Point]string{{1, 2}: "a"}}, new: newOf[PointKeys](), rejects: map[Format]reject{
			JSON: byType("sertest.PointKeys", "field Names (map[sertest.Point]string)", "map key type sertest.Point"),
			XML:  byType("sertest.PointKeys", "field Names (map[sertest.Point]string)", "no representation for Go maps"),
		}},
		{name: "skipped field", value: Tagged{Name: "t"}, new: newOf[Tagged]()},
		{name: "small packet", value: NewSmall(), new: newOf[Small]()},
		{name: "large packet", value: NewLarge(), new: newOf[Large]()},
	}
}
