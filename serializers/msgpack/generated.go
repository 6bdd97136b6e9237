package msgpack

import (
	"fmt"
	"reflect"
	"sync"
	"unsafe"
)

// MsgMarshaler is implemented by types with generated MessagePack code in
// the shape github.com/tinylib/msgp generates: MarshalMsg appends the
// encoding of the value to b and returns the extended slice.
//
// Serializer.Marshal and Serializer.MarshalAppend call it, instead of
// encoding with reflection, for a value whose type or pointer type has it
// (see the package documentation, Generated code). It must not modify the
// receiver: a pointer receiver may be given the copy of the value that
// the interface passed to Marshal holds.
type MsgMarshaler interface {
	// MarshalMsg appends the encoding of the value to b.
	MarshalMsg(b []byte) ([]byte, error)
}

// MsgUnmarshaler is implemented by types with generated MessagePack code in
// the shape github.com/tinylib/msgp generates: UnmarshalMsg decodes the
// value at the start of b into the receiver and returns the bytes after it.
// It must not keep b, nor make the receiver refer to it.
//
// Serializer.Unmarshal calls it, after its checks of the input, instead of
// decoding with reflection, when the target pointer has it.
type MsgUnmarshaler interface {
	// UnmarshalMsg decodes the value at the start of b into the receiver.
	UnmarshalMsg(b []byte) ([]byte, error)
}

// How a type's values are marshaled.
const (
	reflective = iota // by the library, with reflection
	direct            // the value has MarshalMsg
	viaPointer        // only a pointer to it has: it is given the value's copy (see genType)
)

// genType is what a type offers of generated code: how its values are
// marshaled, and whether a pointer to it unmarshals itself.
type genType struct {
	marshal   int
	unmarshal bool
	// inPlace is set for a viaPointer struct that an interface holds by
	// reference (one of more than a word): MarshalMsg runs on the copy
	// the interface holds. Other viaPointer types go through a pooled
	// copy, in copies.
	inPlace bool
	copies  sync.Pool // of *T
}

var (
	genTypes       sync.Map // reflect.Type -> *genType
	msgMarshaler   = reflect.TypeFor[MsgMarshaler]()
	msgUnmarshaler = reflect.TypeFor[MsgUnmarshaler]()
)

// genFor returns what t offers of generated code. A type that encodes
// itself for the library (policy.Opaque: a vmihailenco/msgpack Marshaler,
// BinaryMarshaler, TextMarshaler and the like) keeps doing so, so that the
// bytes stay what a peer decoding with reflection expects.
func genFor(t reflect.Type) *genType {
	if g, ok := genTypes.Load(t); ok {
		return g.(*genType)
	}
	g := new(genType)
	if !policy.Opaque(t) && t != timeType {
		pt := reflect.PointerTo(t)
		switch {
		case t.Implements(msgMarshaler):
			g.marshal = direct
		case pt.Implements(msgMarshaler):
			g.marshal = viaPointer
			g.inPlace = t.Kind() == reflect.Struct && t.Size() > unsafe.Sizeof(uintptr(0))
			g.copies.New = func() any { return reflect.New(t).Interface() }
		}
		g.unmarshal = pt.Implements(msgUnmarshaler)
	}
	actual, _ := genTypes.LoadOrStore(t, g)
	return actual.(*genType)
}

// marshalMsg appends v's generated encoding to dst. rv is v, which is not
// a nil pointer.
func (g *genType) marshalMsg(dst []byte, v any, rv reflect.Value) ([]byte, error) {
	if g.marshal == direct {
		return v.(MsgMarshaler).MarshalMsg(dst)
	}
	if g.inPlace {
		return reflect.NewAt(rv.Type(), valueData(v)).Interface().(MsgMarshaler).MarshalMsg(dst)
	}
	p := g.copies.Get()
	elem := reflect.ValueOf(p).Elem()
	elem.Set(rv)
	out, err := p.(MsgMarshaler).MarshalMsg(dst)
	elem.SetZero() // keep nothing of v alive in the pool
	g.copies.Put(p)
	return out, err
}

// unmarshalMsg decodes data into v with its UnmarshalMsg. A panic in it
// becomes an error, as one in the library does.
func unmarshalMsg(data []byte, v MsgUnmarshaler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("decoding failed: %v", p)
		}
	}()
	rest, err := v.UnmarshalMsg(data)
	if err == nil && len(rest) != 0 {
		err = fmt.Errorf("%d bytes of trailing data after the value", len(rest))
	}
	return err
}
