package json

import (
	"encoding"
	stdjson "encoding/json"
	"fmt"
	"reflect"
	"unicode/utf8"

	"github.com/netmessage-go/netmessage/serializers/internal/check"
)

const name = "json"

// errUnread is the reason Unmarshal gives if the pre-check failed to read
// input that encoding/json accepts, which would be a bug in the pre-check.
const errUnread = "the decoded-size estimate could not read the input"

// Serializer encodes values as JSON with encoding/json. The zero value is
// ready to use.
type Serializer struct{}

// New returns a JSON Serializer.
func New() Serializer { return Serializer{} }

// Name returns "json".
func (Serializer) Name() string { return name }

// Marshal returns the JSON encoding of v. It returns an error, without
// encoding anything, if v holds a type or a value that JSON cannot carry
// faithfully.
func (Serializer) Marshal(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if err := policy.Check(rv); err != nil {
		return nil, check.Wrap(name, "marshal", rv.Type(), err)
	}
	b, err := stdjson.Marshal(v)
	if err != nil {
		return nil, check.Wrap(name, "marshal", reflect.TypeOf(v), err)
	}
	return b, nil
}

// Unmarshal decodes the JSON value in data into v, which must be a non-nil
// pointer. It first estimates what decoding data into v allocates and
// refuses, with [ErrDecodeLimit], input that could cost more than
// [Serializer.DecodeBound] allows.
func (Serializer) Unmarshal(data []byte, v any) error {
	rv, err := check.Target(name, v)
	if err != nil {
		return err
	}
	if err := policy.Type(rv.Type()); err != nil {
		return check.Wrap(name, "unmarshal", rv.Type(), err)
	}
	cost, ok, err := estimate(data, planFor(rv.Type().Elem()))
	switch {
	case err != nil:
	case !ok && stdjson.Valid(data):
		// Never decode what the estimate could not read.
		err = fmt.Errorf("%w: %s", ErrDecodeLimit, errUnread)
	case ok && cost > check.Limit(len(data), fixedHeap):
		err = check.OverLimit(len(data), cost, fixedHeap)
	}
	if err != nil {
		return check.Wrap(name, "unmarshal", rv.Type(), err)
	}
	if err := stdjson.Unmarshal(data, v); err != nil {
		return check.Wrap(name, "unmarshal", rv.Type(), err)
	}
	return nil
}

var (
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

var policy = &check.Policy{
	Tag: "json",
	Opaque: func(t reflect.Type) bool {
		return check.Implements(t, reflect.TypeFor[stdjson.Marshaler](), reflect.TypeFor[stdjson.Unmarshaler](),
			textMarshalerType, textUnmarshalerType)
	},
	Kind: kindProblem,
	Value: func(v reflect.Value) string {
		if v.Kind() != reflect.String {
			return ""
		}
		s := v.String()
		if utf8.ValidString(s) {
			return ""
		}
		for i := 0; ; {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return fmt.Sprintf("invalid UTF-8 byte 0x%02x at offset %d (encoding/json would replace it with U+FFFD); use []byte for binary data", s[i], i)
			}
			i += size
		}
	},
}

func kindProblem(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.Complex64, reflect.Complex128, reflect.UnsafePointer:
		return "JSON has no representation for " + t.Kind().String() + " values"
	case reflect.Map:
		k := t.Key()
		switch k.Kind() {
		case reflect.String,
			reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			return ""
		}
		if check.Implements(k, textMarshalerType) && reflect.PointerTo(k).Implements(textUnmarshalerType) {
			return ""
		}
		return fmt.Sprintf("JSON object keys are strings; map key type %s is not a string, an integer or an encoding.TextMarshaler", k)
	}
	return ""
}
