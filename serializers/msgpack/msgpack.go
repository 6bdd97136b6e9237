package msgpack

import (
	"bytes"
	"encoding"
	"fmt"
	"reflect"
	"sync"

	vmsgpack "github.com/vmihailenco/msgpack/v5"

	"github.com/netmessage-go/netmessage/serializers/internal/check"
)

const name = "msgpack"

// Serializer encodes values as MessagePack with
// github.com/vmihailenco/msgpack/v5. The zero value is ready to use.
type Serializer struct{}

// New returns a MessagePack Serializer.
func New() Serializer { return Serializer{} }

// Name returns "msgpack".
func (Serializer) Name() string { return name }

// Marshal returns the MessagePack encoding of v. It returns an error,
// without encoding anything, if v holds a type MessagePack cannot carry.
func (s Serializer) Marshal(v any) ([]byte, error) { return s.MarshalAppend(nil, v) }

// MarshalAppend appends the MessagePack encoding of v to dst and returns the
// extended buffer. On error it returns dst unchanged, with the error
// Marshal would return.
func (Serializer) MarshalAppend(dst []byte, v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if err := policy.Check(rv); err != nil {
		return dst, check.Wrap(name, "marshal", rv.Type(), err)
	}
	if rv.IsValid() && !(rv.Kind() == reflect.Pointer && rv.IsNil()) {
		if g := genFor(rv.Type()); g.marshal != reflective {
			out, err := g.marshalMsg(dst, v, rv)
			if err != nil {
				return dst, check.Wrap(name, "marshal", rv.Type(), err)
			}
			return out, nil
		}
	}
	st := encoders.Get().(*encoder)
	st.w.b = dst
	st.enc.Reset(&st.w)
	err := st.enc.Encode(v)
	out := st.w.b
	st.w.b = nil
	st.enc.Reset(nil)
	encoders.Put(st)
	if err != nil {
		return dst, check.Wrap(name, "marshal", reflect.TypeOf(v), err)
	}
	return out, nil
}

// Unmarshal decodes the single MessagePack value in data into v, which must
// be a non-nil pointer. Nothing v holds afterwards refers to data.
func (Serializer) Unmarshal(data []byte, v any) error {
	rv, err := check.Target(name, v)
	if err != nil {
		return err
	}
	if err := policy.Type(rv.Type()); err != nil {
		return check.Wrap(name, "unmarshal", rv.Type(), err)
	}
	g := genFor(rv.Type().Elem())
	cost, err := scan(data, planFor(rv.Type().Elem()), g.unmarshal)
	if err == nil && cost > check.Limit(len(data), fixedHeap) {
		err = check.OverLimit(len(data), cost, fixedHeap)
	}
	if err != nil {
		return check.Wrap(name, "unmarshal", rv.Type(), err)
	}
	if g.unmarshal {
		err = unmarshalMsg(data, v.(MsgUnmarshaler))
	} else {
		err = decode(data, v)
	}
	if err != nil {
		return check.Wrap(name, "unmarshal", rv.Type(), err)
	}
	return nil
}

// decode decodes data into v with a pooled decoder. A panic in the library
// (it has panicked on input no type check can foresee, such as a list as
// the key of a map[any]int) becomes an error; the decoder is then dropped.
func decode(data []byte, v any) (err error) {
	st := decoders.Get().(*decoder)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("decoding failed: %v", p)
			return
		}
		st.r.Reset(nil)
		st.dec.Reset(nil)
		decoders.Put(st)
	}()
	st.r.Reset(data)
	st.dec.Reset(&st.r)
	return st.dec.Decode(v)
}

// An encoder is a reusable encoder writing to a slice; Reset gives it the
// options of a new one, as vmihailenco/msgpack's Marshal uses.
type encoder struct {
	enc *vmsgpack.Encoder
	w   sliceWriter
}

var encoders = sync.Pool{New: func() any {
	st := new(encoder)
	st.enc = vmsgpack.NewEncoder(&st.w)
	return st
}}

// A decoder is a reusable decoder reading from a slice, with the options of
// a new one after Reset, as vmihailenco/msgpack's Unmarshal uses.
type decoder struct {
	dec *vmsgpack.Decoder
	r   bytes.Reader
}

var decoders = sync.Pool{New: func() any {
	st := new(decoder)
	st.dec = vmsgpack.NewDecoder(&st.r)
	return st
}}

// sliceWriter appends what is written to b.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

func (w *sliceWriter) WriteByte(c byte) error {
	w.b = append(w.b, c)
	return nil
}

var policy = &check.Policy{
	Tag: "msgpack",
	Opaque: func(t reflect.Type) bool {
		return check.Implements(t,
			reflect.TypeFor[vmsgpack.CustomEncoder](), reflect.TypeFor[vmsgpack.CustomDecoder](),
			reflect.TypeFor[vmsgpack.Marshaler](), reflect.TypeFor[vmsgpack.Unmarshaler](),
			reflect.TypeFor[encoding.BinaryMarshaler](), reflect.TypeFor[encoding.BinaryUnmarshaler](),
			reflect.TypeFor[encoding.TextMarshaler](), reflect.TypeFor[encoding.TextUnmarshaler]())
	},
	Kind: func(t reflect.Type) string {
		switch t.Kind() {
		case reflect.Chan, reflect.Func, reflect.Complex64, reflect.Complex128, reflect.UnsafePointer:
			return "MessagePack has no representation for " + t.Kind().String() + " values"
		case reflect.Uintptr:
			return "vmihailenco/msgpack has no encoder for uintptr (it would panic); use uint64"
		}
		return ""
	},
}
