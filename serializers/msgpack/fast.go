package msgpack

import (
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"sync"
	"unsafe"
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
	off  uintptr
	c    *fastCodec
}

// fastFor returns the fast path's codec for t, or nil if values of t go
// the general way.
func fastFor(t reflect.Type) *fastCodec {
	if t.Kind() != reflect.Struct {
		return nil // the library treats top-level pointers to scalars apart
	}
	b := fastBuilder{seen: make(map[reflect.Type]*fastCodec)}
	c := b.build(t)
	if c == nil || b.failed {
		return nil
	}
	return c
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
			c.fields = append(c.fields, fastField{name: name, off: f.Offset, c: fc})
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
			c.fields = append(c.fields, fastField{name: in.name, off: f.Offset + in.off, c: in.c})
		}
		if !take(name) {
			return false
		}
		c.whole = append(c.whole, fastField{name: name, off: f.Offset, c: fc})
	}
	return true
}

// maxShared is the largest input whose decoded strings and byte slices
// share one copy of it (one allocation instead of one each). Keeping one
// of them keeps that copy: at most maxShared bytes.
const maxShared = 512

// maxFastDepth bounds the containers the fast path enters; deeper input
// goes the general way (which refuses nesting over maxDepth).
const maxFastDepth = 32

// fastDecoder reads one input.
type fastDecoder struct {
	b     []byte
	pos   int
	arena []byte // a copy of b that strings and byte slices point into, or nil
	depth int
}

// decodeFast decodes data into the value of c's type at p and reports
// whether it did; when it did not, the value may hold part of the input
// (fields the general way decodes again).
func decodeFast(c *fastCodec, data []byte, p unsafe.Pointer) bool {
	d := fastDecoder{b: data}
	if c.refs && len(data) <= maxShared {
		d.arena = append([]byte(nil), data...)
	}
	return len(data) > 0 && data[0] != nilCode && d.value(c, p) && d.pos == len(data)
}

const nilCode = 0xc0

// value decodes one value of c's type into p.
func (d *fastDecoder) value(c *fastCodec, p unsafe.Pointer) bool {
	if d.pos >= len(d.b) {
		return false
	}
	switch c.kind {
	case fBool:
		switch d.b[d.pos] {
		case nilCode, 0xc2:
			*(*bool)(p) = false
		case 0xc3:
			*(*bool)(p) = true
		default:
			return false
		}
		d.pos++
		return true
	case fInt, fUint:
		n, ok := d.integer()
		if !ok {
			return false
		}
		store(p, c.size, n) // truncated, as reflect's SetInt and SetUint do
		return true
	case fFloat32:
		if d.b[d.pos] == 0xca {
			bits, ok := d.fixed(4)
			*(*float32)(p) = math.Float32frombits(uint32(bits))
			return ok
		}
		n, ok := d.integer()
		*(*float32)(p) = float32(int64(n))
		return ok
	case fFloat64:
		switch d.b[d.pos] {
		case 0xca:
			bits, ok := d.fixed(4)
			*(*float64)(p) = float64(math.Float32frombits(uint32(bits)))
			return ok
		case 0xcb:
			bits, ok := d.fixed(8)
			*(*float64)(p) = math.Float64frombits(bits)
			return ok
		}
		n, ok := d.integer()
		*(*float64)(p) = float64(int64(n))
		return ok
	case fString:
		return d.str((*string)(p))
	case fBytes:
		return d.bytes((*[]byte)(p))
	case fStrings:
		return d.strings((*[]string)(p))
	case fSlice:
		return d.slice(c, p)
	}
	return d.structure(c, p)
}

// fixed reads the big-endian number of width bytes after a value's code,
// and moves past both. On false nothing is read, and the caller gives up
// (a value stored meanwhile is of no account).
func (d *fastDecoder) fixed(width int) (uint64, bool) {
	i := d.pos + 1
	if i+width > len(d.b) {
		return 0, false
	}
	d.pos = i + width
	switch width {
	case 1:
		return uint64(d.b[i]), true
	case 2:
		return uint64(binary.BigEndian.Uint16(d.b[i:])), true
	case 4:
		return uint64(binary.BigEndian.Uint32(d.b[i:])), true
	}
	return binary.BigEndian.Uint64(d.b[i:]), true
}

// integer reads an integer as the library's int and uint do (the same
// bits either way): nil is 0, and every integer format is taken, converted
// as Go converts.
func (d *fastDecoder) integer() (uint64, bool) {
	c := d.b[d.pos]
	switch {
	case c <= 0x7f || c >= 0xe0: // positive and negative fixint
		d.pos++
		return uint64(int64(int8(c))), true
	case c == nilCode:
		d.pos++
		return 0, true
	case c >= 0xcc && c <= 0xcf: // uint 8 to 64
		return d.fixed(1 << (c - 0xcc))
	case c >= 0xd0 && c <= 0xd3: // int 8 to 64, sign-extended
		width := 1 << (c - 0xd0)
		n, ok := d.fixed(width)
		shift := 64 - 8*width
		return uint64(int64(n<<shift) >> shift), ok
	}
	return 0, false
}

// rawLen reads the header of a string or binary value (the library takes
// either for a string or a []byte) and returns the length of its data, or
// -1 for nil.
func (d *fastDecoder) rawLen() (int, bool) {
	if d.pos >= len(d.b) {
		return 0, false
	}
	c := d.b[d.pos]
	var n uint64
	ok := true
	switch {
	case c >= 0xa0 && c <= 0xbf:
		n = uint64(c & 0x1f)
		d.pos++
	case c == nilCode:
		d.pos++
		return -1, true
	case c >= 0xd9 && c <= 0xdb: // str 8 to 32
		n, ok = d.fixed(1 << (c - 0xd9))
	case c >= 0xc4 && c <= 0xc6: // bin 8 to 32
		n, ok = d.fixed(1 << (c - 0xc4))
	default:
		return 0, false
	}
	return d.within(n, ok)
}

// within checks a length just read: no more than the rest of the input
// (each byte or element takes a byte at least), so that nothing is made
// for what is not there.
func (d *fastDecoder) within(n uint64, ok bool) (int, bool) {
	if !ok || n > uint64(len(d.b)-d.pos) {
		return 0, false
	}
	return int(n), true
}

// header reads the header of a map or an array and returns its number of
// entries or elements, or -1 for nil.
func (d *fastDecoder) header() (n int, isMap, ok bool) {
	if d.pos >= len(d.b) {
		return 0, false, false
	}
	c := d.b[d.pos]
	var u uint64
	ok = true
	switch {
	case c >= 0x80 && c <= 0x9f: // fixmap, fixarray
		u, isMap = uint64(c&0x0f), c < 0x90
		d.pos++
	case c == nilCode:
		d.pos++
		return -1, false, true
	case c == 0xdc || c == 0xde: // array 16, map 16
		u, ok = d.fixed(2)
		isMap = c == 0xde
	case c == 0xdd || c == 0xdf: // array 32, map 32
		u, ok = d.fixed(4)
		isMap = c == 0xdf
	default:
		return 0, false, false
	}
	n, ok = d.within(u, ok)
	return n, isMap, ok
}

func (d *fastDecoder) str(p *string) bool {
	n, ok := d.rawLen()
	if !ok {
		return false
	}
	switch {
	case n <= 0:
		*p = ""
	case d.arena != nil:
		*p = unsafe.String(&d.arena[d.pos], n)
	default:
		*p = string(d.b[d.pos : d.pos+n])
	}
	d.pos += max(n, 0)
	return true
}

func (d *fastDecoder) bytes(p *[]byte) bool {
	n, ok := d.rawLen()
	if !ok {
		return false
	}
	switch {
	case n < 0:
		*p = nil
		return true
	case d.arena != nil:
		*p = d.arena[d.pos : d.pos+n : d.pos+n]
	default:
		*p = bytes.Clone(d.b[d.pos : d.pos+n]) // not cleared first, unlike make
	}
	d.pos += n
	return true
}

// arrayLen reads an array header: its length, or -1 for nil.
func (d *fastDecoder) arrayLen() (int, bool) {
	n, isMap, ok := d.header()
	return n, ok && !isMap
}

// strings decodes a []string as the library does: nil leaves the slice as
// it was, a slice with room enough is reused, and an empty one is not nil.
func (d *fastDecoder) strings(p *[]string) bool {
	n, ok := d.arrayLen()
	if !ok || n < 0 {
		return ok
	}
	s := *p
	if s != nil && cap(s) >= n {
		s = s[:n]
	} else {
		s = make([]string, n)
	}
	*p = s
	for i := range s {
		if !d.str(&s[i]) {
			return false
		}
	}
	return true
}

// slice decodes a slice of another fast type as the library does: nil
// makes it nil, a slice with room enough is reused, and the elements it
// had are decoded into, not replaced.
func (d *fastDecoder) slice(c *fastCodec, p unsafe.Pointer) bool {
	n, ok := d.arrayLen()
	if !ok {
		return false
	}
	v := reflect.NewAt(c.typ, p).Elem()
	switch {
	case n < 0:
		v.SetZero()
		return true
	case n == 0 && v.IsNil():
		v.Set(reflect.MakeSlice(c.typ, 0, 0))
		return true
	case v.Cap() >= n:
		v.SetLen(n)
	default:
		s := reflect.MakeSlice(c.typ, n, n)
		reflect.Copy(s, v.Slice(0, v.Cap()))
		v.Set(s)
	}
	if n == 0 {
		return true
	}
	if d.depth++; d.depth > maxFastDepth {
		return false
	}
	base := v.UnsafePointer()
	for i := range n {
		if !d.value(c.elem, unsafe.Add(base, uintptr(i)*c.size)) {
			return false
		}
	}
	d.depth--
	return true
}

// structure decodes a struct from its map form (fields by name; a field
// not in the input keeps its value), its array form (every field in
// order), or nil (the zero value), as the library does.
func (d *fastDecoder) structure(c *fastCodec, p unsafe.Pointer) bool {
	n, isMap, ok := d.header()
	if !ok {
		return false
	}
	if n < 0 || !isMap && n == 0 { // nil, or an empty array: the zero value
		reflect.NewAt(c.typ, p).Elem().SetZero()
		return true
	}
	if d.depth++; d.depth > maxFastDepth {
		return false
	}
	if !isMap {
		if n != len(c.fields) {
			return false // the library's error, from the general way
		}
		for _, f := range c.fields {
			if !d.value(f.c, unsafe.Add(p, f.off)) {
				return false
			}
		}
		d.depth--
		return true
	}
	for k := range n {
		key, ok := d.key()
		if !ok {
			return false
		}
		// Encoders write the fields in order: try the k-th first.
		var f *fastField
		if k < len(c.fields) && c.fields[k].name == key {
			f = &c.fields[k]
		} else {
			f = c.field(key)
		}
		if f == nil || !d.value(f.c, unsafe.Add(p, f.off)) {
			return false // an unknown field is skipped the general way
		}
	}
	d.depth--
	return true
}

// field returns the field a map key names, or nil.
func (c *fastCodec) field(key string) *fastField {
	for i := range c.fields {
		if c.fields[i].name == key {
			return &c.fields[i]
		}
	}
	for i := range c.whole {
		if c.whole[i].name == key {
			return &c.whole[i]
		}
	}
	return nil
}

// key reads a map key written as a string. The result aliases the input
// and must not be kept.
func (d *fastDecoder) key() (string, bool) {
	n, ok := d.rawLen()
	if !ok || n < 0 {
		return "", false // nil keys, odd but taken by the library: the general way
	}
	k := unsafe.String(unsafe.SliceData(d.b[d.pos:]), n)
	d.pos += n
	return k, true
}

// fastEncoders caches, by the type of the value given to Marshal (a struct
// or a pointer to one), the fast path's codec or a nil one.
var fastEncoders sync.Map // reflect.Type -> *fastCodec

// fastEncoderFor returns the codec that encodes values of type t, or nil
// if they go the general way: t is not a plain struct or a pointer to one,
// or it has generated methods.
func fastEncoderFor(t reflect.Type) *fastCodec {
	if c, ok := fastEncoders.Load(t); ok {
		return c.(*fastCodec)
	}
	var c *fastCodec
	st := t
	if st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	if policy.Type(t) == nil && genFor(t).marshal == reflective && genFor(st).marshal == reflective {
		c = fastFor(st)
	}
	actual, _ := fastEncoders.LoadOrStore(t, c)
	return actual.(*fastCodec)
}

// valueData returns the data word of v: for a pointer, the pointer; for a
// fast struct, the address of the struct, which an interface holds by
// reference as such a struct is not pointer-shaped (its fields are none,
// or not pointers).
func valueData(v any) unsafe.Pointer {
	return (*[2]unsafe.Pointer)(unsafe.Pointer(&v))[1]
}

// fastEncoder appends encodings with the serializer's options.
type fastEncoder struct {
	arrays, compact bool
}

func (e fastEncoder) value(b []byte, c *fastCodec, p unsafe.Pointer) []byte {
	switch c.kind {
	case fBool:
		if *(*bool)(p) {
			return append(b, 0xc3)
		}
		return append(b, 0xc2)
	case fInt, fUint:
		bits := load(p, c.size)
		if c.kind == fUint {
			if c.wide || e.compact {
				return appendUint(b, bits)
			}
			return appendSized(b, 0xcc, c.size, bits)
		}
		shift := 64 - 8*c.size // sign-extended
		n := int64(bits<<shift) >> shift
		if c.wide || e.compact {
			return appendInt(b, n)
		}
		return appendSized(b, 0xd0, c.size, uint64(n))
	case fFloat32:
		return binary.BigEndian.AppendUint32(append(b, 0xca), math.Float32bits(*(*float32)(p)))
	case fFloat64:
		return binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(*(*float64)(p)))
	case fString:
		return appendString(b, *(*string)(p))
	case fBytes:
		v := *(*[]byte)(p)
		if v == nil {
			return append(b, nilCode)
		}
		return append(appendLen(b, 0xc4, len(v)), v...)
	case fStrings:
		v := *(*[]string)(p)
		if v == nil {
			return append(b, nilCode)
		}
		b = appendArrayLen(b, len(v))
		for _, s := range v {
			b = appendString(b, s)
		}
		return b
	case fSlice:
		v := reflect.NewAt(c.typ, p).Elem()
		if v.IsNil() {
			return append(b, nilCode)
		}
		n := v.Len()
		b = appendArrayLen(b, n)
		base := v.UnsafePointer()
		for i := range n {
			b = e.value(b, c.elem, unsafe.Add(base, uintptr(i)*c.size))
		}
		return b
	}
	if e.arrays {
		b = appendArrayLen(b, len(c.fields))
		for _, f := range c.fields {
			b = e.value(b, f.c, unsafe.Add(p, f.off))
		}
		return b
	}
	switch n := len(c.fields); {
	case n < 16:
		b = append(b, 0x80|byte(n))
	case n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, 0xde), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdf), uint32(n))
	}
	for _, f := range c.fields {
		b = appendString(b, f.name)
		b = e.value(b, f.c, unsafe.Add(p, f.off))
	}
	return b
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

// appendSized writes n in the format of a Go integer of size bytes, the
// library's without CompactIntegers: code (uint8 0xcc or int8 0xd0) for one
// byte, the next codes for two, four and eight.
func appendSized(b []byte, code byte, size uintptr, n uint64) []byte {
	switch size {
	case 1:
		return append(b, code, byte(n))
	case 2:
		return binary.BigEndian.AppendUint16(append(b, code+1), uint16(n))
	case 4:
		return binary.BigEndian.AppendUint32(append(b, code+2), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, code+3), n)
}

// appendInt and appendUint write a number in the fewest bytes, as the
// library's EncodeInt and EncodeUint do.
func appendInt(b []byte, n int64) []byte {
	switch {
	case n >= 0:
		return appendUint(b, uint64(n))
	case n >= -32:
		return append(b, byte(n))
	case n >= math.MinInt8:
		return append(b, 0xd0, byte(n))
	case n >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(n))
	case n >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(n))
}

func appendUint(b []byte, n uint64) []byte {
	switch {
	case n <= math.MaxInt8:
		return append(b, byte(n))
	case n <= math.MaxUint8:
		return append(b, 0xcc, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcf), n)
}

func appendString(b []byte, s string) []byte {
	if n := len(s); n < 32 {
		b = append(b, 0xa0|byte(n))
	} else {
		b = appendLen(b, 0xd9, n)
	}
	return append(b, s...)
}

// appendLen writes the header of a string (code 0xd9) or binary value
// (0xc4) of n bytes in the fewest bytes: code, or the next codes for
// lengths over 255 and over 65,535.
func appendLen(b []byte, code byte, n int) []byte {
	switch {
	case n < 256:
		return append(b, code, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, code+1), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, code+2), uint32(n))
}

func appendArrayLen(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x90|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xdc), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xdd), uint32(n))
}
