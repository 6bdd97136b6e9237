// Package sertest is the test corpus shared by the serializer packages:
// packet types, round-trip cases with per-format expectations, cmp options,
// and test helpers that run them against any serializer.
package sertest

import "time"

// Header is a nested struct with a slice.
type Header struct {
	ID     uint64
	Method string
	Tags   []string
}

// Item is an element of Envelope.Items.
type Item struct {
	Name  string
	Qty   int32
	Price float64
}

// Envelope nests structs, a slice of structs and an optional pointer.
type Envelope struct {
	Header Header
	Items  []Item
	Note   string
	Reply  *Header
}

// Embedding embeds Header, whose fields are promoted.
type Embedding struct {
	Header
	Extra string
}

// Scalars has one field of every scalar kind.
type Scalars struct {
	B   bool
	I   int
	I8  int8
	I16 int16
	I32 int32
	I64 int64
	U   uint
	U8  uint8
	U16 uint16
	U32 uint32
	U64 uint64
	F32 float32
	F64 float64
	S   string
}

// Slices holds slices of several element kinds, empty and nil.
type Slices struct {
	Ints    []int
	Strings []string
	Items   []Item
	Bools   []bool
	Floats  []float64
	Blobs   [][]byte
	Empty   []int
	Nil     []string
}

// Maps holds maps with string and integer keys, empty and nil.
type Maps struct {
	Counts map[string]int
	ByName map[string]Item
	Lists  map[string][]string
	ByID   map[int64]string
	Empty  map[string]int
	Nil    map[string]bool
}

// Times holds time.Time values, directly, by pointer and in a slice.
type Times struct {
	At     time.Time
	Zero   time.Time
	Old    time.Time
	Far    time.Time
	Ptr    *time.Time
	NilPtr *time.Time
	List   []time.Time
}

// Pointers holds nil and non-nil pointers, including to zero values.
type Pointers struct {
	Int      *int
	Zero     *int
	Str      *string
	EmptyStr *string
	NilStr   *string
	Item     *Item
	NilItem  *Item
}

// PointerToPointer holds a pointer to a pointer.
type PointerToPointer struct {
	P **int
}

// PointerSlice is a slice of pointers, which may hold nil elements.
type PointerSlice struct {
	Items []*Item
}

// Empty is a struct without fields.
type Empty struct{}

// WithEmpty holds empty structs by value and by pointer.
type WithEmpty struct {
	E    Empty
	P    *Empty
	Name string
}

// Text holds strings: unicode, markup-like, or with control bytes.
type Text struct {
	Body string
	Note string
}

// Binary holds a byte slice.
type Binary struct {
	Data []byte
	Name string
}

// Tree is a recursive type.
type Tree struct {
	Name     string
	Children []Tree
}

// Dynamic holds a value of dynamic type.
type Dynamic struct {
	Value any
}

// Arrays holds fixed-size arrays.
type Arrays struct {
	Fixed [3]int
	Hash  [4]byte
}

// Matrix holds a slice of slices.
type Matrix struct {
	Rows [][]int
}

// WithChan has a channel field, which no format can carry.
type WithChan struct {
	C chan int
}

// WithFunc has a function field, which no format can carry.
type WithFunc struct {
	F func()
}

// WithComplex has a complex field, which no format can carry.
type WithComplex struct {
	C complex128
}

// WithUintptr has a uintptr field.
type WithUintptr struct {
	P uintptr
}

// Point is a struct used as a map key.
type Point struct {
	X, Y int
}

// PointKeys is a map with struct keys.
type PointKeys struct {
	Names map[Point]string
}

// Tagged has a channel field that every format is told to skip.
type Tagged struct {
	Name string
	Done chan struct{} `json:"-" xml:"-" msgpack:"-"`
}

// Small is a typical small RPC packet (about 100 bytes encoded).
type Small struct {
	ID     uint64
	Method string
	Seq    uint32
	OK     bool
	Score  float64
	Sent   time.Time
}

// Large carries a 16 KiB payload.
type Large struct {
	ID      uint64
	Name    string
	Payload []byte
}
