package msgpack

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"sync"
	"unsafe"

	vmsgpack "github.com/vmihailenco/msgpack/v5"
)

// The fast path encodes and decodes values of plain types without the
// library: structs
// whose exported fields are booleans, numbers, strings, byte slices,
// string slices, and structs and slices of these, with no embedded fields,
// no tag options, no methods of their own that change their encoding. For
// those it does what vmihailenco/msgpack v5.4.1 does (the same values for
// the same input, including decoding into a non-zero value), reading the
// input in place through a compiled description of the type instead of
// through reflection and a byte reader, and writing the bytes the library
// writes (with the serializer's options) straight into the buffer.
//
// It only ever decodes what it is sure of: a wire form it does not mirror
// (an unknown field, a map key that is not a string, a number where a
// string was due, input it cannot read to its exact end) makes it give up,
// and the value is then decoded the general way, the checks and the
// library deciding as they do for any other type.

// fkind is a fastCodec's kind: how values are read and stored.
type fkind uint8

const (
	fBool fkind = iota
	fInt        // signed integer of fastCodec.size bytes
	fUint       // unsigned integer of fastCodec.size bytes
	fFloat32
	fFloat64
	fString
	fBytes   // []byte (any named slice of bytes)
	fStrings // []string exactly, which the library decodes apart
	fSlice   // a slice of another fast type
	fStruct
)

// fastCodec describes one Go type for the fast path.
type fastCodec struct {
	kind fkind
	size uintptr // integers: their width; slices: the element size
	// wide is set for int and uint, which the library always encodes in
	// the fewest bytes (the sized kinds only with CompactIntegers).
	wide   bool
	typ    reflect.Type // slices and structs: the type itself
	elem   *fastCodec   // fSlice
	fields []fastField  // fStruct: in declaration order, the array form's order
	// whole are a struct's embedded structs, whose fields are among
	// fields, by their own names: a map key that decodes one whole.
	whole []fastField
	// refs is set when values hold strings or byte slices, which decoding
	// points into one copy of small inputs (see maxShared).
	refs bool
}

// fastField is a struct field the library decodes: its name on the wire,
// its offset in the struct and its type.
type fastField struct {
	name string
	key  []byte // name as a map key, encoded as the library encodes it
	off  uintptr
	c    *fastCodec
}

// newField returns the field named name at off.
func newField(name string, off uintptr, c *fastCodec) fastField {
	return fastField{name: name, key: appendString(nil, name), off: off, c: c}
}

// fastCodecs caches fastFor's result (a nil one too) by struct type, which
// Unmarshal's targets and the encoders of the type and its pointer share.
var fastCodecs sync.Map // reflect.Type -> *fastCodec

// fastFor returns the fast path's codec for t, or nil if values of t go
// the general way.
func fastFor(t reflect.Type) *fastCodec {
	if t.Kind() != reflect.Struct {
		return nil // the library treats top-level pointers to scalars apart
	}
	if c, ok := fastCodecs.Load(t); ok {
		return c.(*fastCodec)
	}
	c, _ := fastCodecs.LoadOrStore(t, buildFast(t))
	return c.(*fastCodec)
}

// buildFast builds the codec of the struct type t, or returns nil.
func buildFast(t reflect.Type) *fastCodec {
	b := fastBuilder{seen: make(map[reflect.Type]*fastCodec)}
	c := b.build(t)
	if c == nil || b.failed {
		return nil
	}
	for _, tc := range b.seen {
		if !libraryAgrees(tc) {
			return nil
		}
	}
	return c
}

// libraryAgrees reports whether the library encodes the zero value of c's
// type as the fast path does, and decodes that back to the zero value. A
// type given an encoding or a decoding of its own with the library's
// Register, RegisterExtEncoder or RegisterExtDecoder (which the library
// keeps to itself) fails one of the two as a rule, and the types that
// contain it go the general way.
func libraryAgrees(c *fastCodec) bool {
	zero := reflect.New(c.typ)
	want, err := vmsgpack.Marshal(zero.Interface())
	if err != nil || !bytes.Equal(fastEncoder{}.value(nil, c, zero.UnsafePointer()), want) {
		return false
	}
	back := reflect.New(c.typ)
	return vmsgpack.Unmarshal(want, back.Interface()) == nil && reflect.DeepEqual(back.Elem().Interface(), zero.Elem().Interface())
}

type fastBuilder struct {
	seen   map[reflect.Type]*fastCodec
	failed bool
}

func (b *fastBuilder) build(t reflect.Type) *fastCodec {
	if c, ok := b.seen[t]; ok {
		return c // a type that contains itself through a slice
	}
	if t == timeType || policy.Opaque(t) {
		b.failed = true
		return nil
	}
	c := &fastCodec{typ: t, size: t.Size()}
	b.seen[t] = c
	switch t.Kind() {
	case reflect.Bool:
		c.kind = fBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		c.kind, c.wide = fInt, t.Kind() == reflect.Int
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		c.kind, c.wide = fUint, t.Kind() == reflect.Uint
	case reflect.Float32:
		c.kind = fFloat32
	case reflect.Float64:
		c.kind = fFloat64
	case reflect.String:
		c.kind, c.refs = fString, true
	case reflect.Slice:
		switch e := t.Elem(); {
		case e.Kind() == reflect.Uint8:
			c.kind, c.refs = fBytes, true
		case e == reflect.TypeFor[string]():
			c.kind, c.refs = fStrings, true
		default:
			c.kind, c.size = fSlice, e.Size()
			if c.elem = b.build(e); c.elem == nil {
				return nil
			}
			c.refs = true // conservatively: the element may be still in the making
		}
	case reflect.Struct:
		c.kind = fStruct
		if !b.addFields(c, t) {
			b.failed = true
			return nil
		}
	default:
		b.failed = true
		return nil
	}
	return c
}

// addFields resolves t's fields as the library does (getFields), and
// reports whether t is a struct the fast path mirrors: no tag options, and
// embedded fields only of struct types whose fields it inlines (none of
// their names taken before), which stay reachable under their own name
// for decoding.
func (b *fastBuilder) addFields(c *fastCodec, t reflect.Type) bool {
	names := make(map[string]bool)
	take := func(name string) bool {
		if names[name] {
			return false // the library keeps the last, and warns
		}
		names[name] = true
		return true
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("msgpack")
		switch {
		case name == "-":
			continue
		case strings.Contains(name, ",") || f.Name == "_msgpack":
			return false // options, for the field or the whole struct
		case !f.IsExported() && !f.Anonymous:
			continue
		case name == "":
			name = f.Name
		}
		fc := b.build(f.Type)
		if fc == nil {
			return false
		}
		c.refs = c.refs || fc.refs
		if !f.Anonymous {
			if !take(name) {
				return false
			}
			c.fields = append(c.fields, newField(name, f.Offset, fc))
			continue
		}
		if fc.kind != fStruct {
			return false
		}
		for _, in := range fc.fields {
			if names[in.name] {
				return false // not inlined: a nested struct, left to the library
			}
		}
		for _, in := range fc.fields {
			take(in.name)
			c.fields = append(c.fields, newField(in.name, f.Offset+in.off, in.c))
		}
		if !take(name) {
			return false
		}
		if f.IsExported() {
			// Under its own name, an embedded struct decodes whole. The
			// library cannot set one of an unexported type (it fails on
			// nil): that key is left to it.
			c.whole = append(c.whole, newField(name, f.Offset, fc))
		}
	}
	return true
}

// load reads the integer of size bytes at p, zero-extended.
func load(p unsafe.Pointer, size uintptr) uint64 {
	switch size {
	case 1:
		return uint64(*(*uint8)(p))
	case 2:
		return uint64(*(*uint16)(p))
	case 4:
		return uint64(*(*uint32)(p))
	}
	return *(*uint64)(p)
}

// quiet32 returns f with a NaN made quiet, as converting it to float64
// and back does: the library passes float32 values through float64 both
// ways, so a signalling NaN's bits do not survive it.
func quiet32(f float32) float32 {
	if f != f {
		return math.Float32frombits(math.Float32bits(f) | 1<<22)
	}
	return f
}

// store writes the low size bytes of n at p.
func store(p unsafe.Pointer, size uintptr, n uint64) {
	switch size {
	case 1:
		*(*uint8)(p) = uint8(n)
	case 2:
		*(*uint16)(p) = uint16(n)
	case 4:
		*(*uint32)(p) = uint32(n)
	default:
		*(*uint64)(p) = n
	}
}
