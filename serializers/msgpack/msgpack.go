package msgpack

import (
	"encoding"
	"reflect"

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
func (Serializer) Marshal(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if err := policy.Check(rv); err != nil {
		return nil, check.Wrap(name, "marshal", rv.Type(), err)
	}
	b, err := vmsgpack.Marshal(v)
	if err != nil {
		return nil, check.Wrap(name, "marshal", reflect.TypeOf(v), err)
	}
	return b, nil
}

// Unmarshal decodes the single MessagePack value in data into v, which must
// be a non-nil pointer.
func (Serializer) Unmarshal(data []byte, v any) error {
	rv, err := check.Target(name, v)
	if err != nil {
		return err
	}
	if err := policy.Type(rv.Type()); err != nil {
		return check.Wrap(name, "unmarshal", rv.Type(), err)
	}
	if err := validate(data); err != nil {
		return check.Wrap(name, "unmarshal", rv.Type(), err)
	}
	if err := vmsgpack.Unmarshal(data, v); err != nil {
		return check.Wrap(name, "unmarshal", rv.Type(), err)
	}
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
