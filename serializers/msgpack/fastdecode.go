package msgpack

import (
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"unsafe"
)

// maxShared is the largest input whose decoded strings and byte slices
// share one copy of it (one allocation instead of one each). Keeping one
// of them keeps that copy: at most maxShared bytes.
const maxShared = 512

// In larger inputs, strings and byte slices of up to maxChunked bytes are
// copied into chunks of chunkSize bytes that they share; longer ones get
// memory of their own. Keeping one keeps its chunk: at most chunkSize
// bytes, no more than maxShared.
const (
	chunkSize  = 256
	maxChunked = 64
)

// maxFastDepth bounds the containers the fast path enters; deeper input
// goes the general way (which refuses nesting over maxDepth).
const maxFastDepth = 32

// fastDecoder reads one input.
type fastDecoder struct {
	b     []byte
	pos   int
	arena []byte // a copy of b that strings and byte slices point into, or nil
	chunk []byte // without arena: where short strings and byte slices go
	depth int
}

// decodeFast decodes data into the value of c's type at p and reports
// whether it did; when it did not, the value may hold part of the input
// (fields the general way decodes again).
func decodeFast(c *fastCodec, data []byte, p unsafe.Pointer) bool {
	if len(data) == 0 || data[0] == nilCode {
		return false // the library decides what nil does to a top-level value
	}
	d := fastDecoder{b: data}
	if c.refs && len(data) <= maxShared {
		d.arena = append([]byte(nil), data...)
	}
	return d.value(c, p) && d.pos == len(data)
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
			*(*float32)(p) = quiet32(math.Float32frombits(uint32(bits)))
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
	if c&0xe0 == 0xa0 { // fixstr, the usual form of short strings
		d.pos++
		return d.within(uint64(c&0x1f), true)
	}
	if c == nilCode {
		d.pos++
		return -1, true
	}
	if k := kindOf(c); k != wString && k != wBinary {
		return 0, false
	}
	d.pos++
	n, _, err := quickHeader(d.b, &d.pos, c)
	return d.within(uint64(n), err == nil)
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
	if c&0xe0 == 0x80 { // fixmap or fixarray, the usual form of small ones
		d.pos++
		isMap = c < 0x90
		n, ok = d.within(uint64(c&0x0f), true)
		return n, isMap, ok
	}
	if c == nilCode {
		d.pos++
		return -1, false, true
	}
	k := kindOf(c)
	if k != wMap && k != wArray {
		return 0, false, false
	}
	d.pos++
	_, children, err := quickHeader(d.b, &d.pos, c)
	if k == wMap {
		children /= 2 // a key and a value each
	}
	n, ok = d.within(uint64(children), err == nil)
	return n, k == wMap, ok
}

func (d *fastDecoder) str(p *string) bool {
	n, ok := d.rawLen()
	if !ok {
		return false
	}
	if n <= 0 {
		*p = ""
	} else {
		*p = unsafe.String(&d.own(n)[0], n)
	}
	d.pos += max(n, 0)
	return true
}

// own returns a copy of the n > 0 bytes at d.pos that the decoded value
// may keep, its capacity n: in the copy of a small input, in a chunk
// shared with other short ones, or in memory of its own.
func (d *fastDecoder) own(n int) []byte {
	switch {
	case d.arena != nil:
		return d.arena[d.pos : d.pos+n : d.pos+n]
	case n > maxChunked:
		return bytes.Clone(d.b[d.pos : d.pos+n]) // not cleared first, unlike make
	}
	k := len(d.chunk)
	if n > cap(d.chunk)-k {
		d.chunk, k = make([]byte, 0, chunkSize), 0
	}
	d.chunk = append(d.chunk, d.b[d.pos:d.pos+n]...)
	return d.chunk[k : k+n : k+n]
}

func (d *fastDecoder) bytes(p *[]byte) bool {
	n, ok := d.rawLen()
	if !ok {
		return false
	}
	switch b := *p; {
	case n < 0:
		*p = nil
		return true
	case b != nil && cap(b) >= n:
		// The library reads into the slice's array when it has room.
		*p = b[:n]
		copy(b[:n], d.b[d.pos:])
	case n == 0:
		*p = []byte{} // empty, not nil, as the library's (no allocation)
	default:
		*p = d.own(n)
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
		// Encoders write the fields in order, their names in the fewest
		// bytes: try the k-th's encoded name first.
		var f *fastField
		if k < len(c.fields) && bytes.HasPrefix(d.b[d.pos:], c.fields[k].key) {
			f = &c.fields[k]
			d.pos += len(f.key)
		} else {
			key, ok := d.key()
			if !ok {
				return false
			}
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
