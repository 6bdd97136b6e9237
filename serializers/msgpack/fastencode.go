package msgpack

import (
	"encoding/binary"
	"math"
	"reflect"
	"sync"
	"unsafe"
)

// sources caches what MarshalAppend needs to know of the dynamic type of
// a value it is given, found with one lookup.
var sources sync.Map // reflect.Type -> *source

// source is what MarshalAppend knows of a type it encodes.
type source struct {
	fast    *fastCodec // the fast path's codec; nil: another way
	gen     *genType   // the type's generated methods
	trusted bool       // the policy accepts its values unseen
}

// sourceFor returns the source of t.
func sourceFor(t reflect.Type) *source {
	if src, ok := sources.Load(t); ok {
		return src.(*source)
	}
	src := &source{gen: genFor(t), trusted: policy.Trusted(t)}
	st := t
	if st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	if policy.Type(t) == nil && src.gen.marshal == reflective && genFor(st).marshal == reflective {
		src.fast = fastFor(st)
	}
	actual, _ := sources.LoadOrStore(t, src)
	return actual.(*source)
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
		return binary.BigEndian.AppendUint32(append(b, 0xca), math.Float32bits(quiet32(*(*float32)(p))))
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
	b = appendMapLen(b, len(c.fields))
	for _, f := range c.fields {
		b = append(b, f.key...)
		b = e.value(b, f.c, unsafe.Add(p, f.off))
	}
	return b
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

// appendArrayLen and appendMapLen write the header of an array of n
// elements or a map of n entries in the fewest bytes.
func appendArrayLen(b []byte, n int) []byte { return appendContainerLen(b, 0x90, 0xdc, n) }

func appendMapLen(b []byte, n int) []byte { return appendContainerLen(b, 0x80, 0xde, n) }

// appendContainerLen writes fix|n for n under 16, else code and n in two
// bytes, or the next code and n in four.
func appendContainerLen(b []byte, fix, code byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, fix|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, code), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, code+1), uint32(n))
}
