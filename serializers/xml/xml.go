package xml

import (
	"bytes"
	"encoding"
	stdxml "encoding/xml"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/netmessage-go/netmessage/serializers/internal/check"
)

const name = "xml"

// Serializer encodes values as XML with encoding/xml. The zero value is
// ready to use.
type Serializer struct{}

// New returns an XML Serializer.
func New() Serializer { return Serializer{} }

// Name returns "xml".
func (Serializer) Name() string { return name }

// Marshal returns the XML encoding of v. It returns an error, without
// encoding anything, if v holds a type or a value that XML cannot carry
// faithfully.
func (Serializer) Marshal(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return nil, check.Errorf(name, "marshal", nil, "nil value has no XML representation")
	}
	t := rv.Type()
	for depth := 0; rv.Kind() == reflect.Pointer; depth++ {
		if rv.IsNil() {
			return nil, check.Errorf(name, "marshal", t, "nil pointer has no XML representation")
		}
		if depth == maxIndirect {
			return nil, check.Errorf(name, "marshal", t, "more than %d pointers to a value (a pointer cycle?)", maxIndirect)
		}
		rv = rv.Elem()
	}
	if err := policy.Type(rv.Type()); err != nil {
		return nil, check.Wrap(name, "marshal", t, err)
	}
	if err := checkRoot(rv.Type()); err != nil {
		return nil, check.Wrap(name, "marshal", t, err)
	}
	if err := policy.Check(rv); err != nil {
		return nil, check.Wrap(name, "marshal", t, err)
	}
	b, err := stdxml.Marshal(v)
	if err != nil {
		return nil, check.Wrap(name, "marshal", t, err)
	}
	return b, nil
}

// Unmarshal decodes the XML document in data into v, which must be a
// non-nil pointer. The root element must be named after v's type, and
// only whitespace, comments, processing instructions and directives may
// surround it.
func (Serializer) Unmarshal(data []byte, v any) error {
	rv, err := check.Target(name, v)
	if err != nil {
		return err
	}
	t := rv.Type()
	elem := t.Elem()
	if elem.Kind() == reflect.Pointer {
		elem = elem.Elem() // encoding/xml allocates one level of pointer
	}
	if err := policy.Type(elem); err != nil {
		return check.Wrap(name, "unmarshal", t, err)
	}
	if err := checkRoot(elem); err != nil {
		return check.Wrap(name, "unmarshal", t, err)
	}
	if err := checkCost(data, elem, elem != t.Elem()); err != nil {
		return check.Wrap(name, "unmarshal", t, err)
	}
	if err := decode(data, v, elem); err != nil {
		return check.Wrap(name, "unmarshal", t, err)
	}
	return nil
}

func decode(data []byte, v any, t reflect.Type) error {
	d := stdxml.NewDecoder(bytes.NewReader(data))
	start, err := rootElement(d)
	if err != nil {
		return err
	}
	if want, ok := elementName(t); ok && start.Name.Local != want {
		return fmt.Errorf("root element <%s> does not match %s (want <%s>)", start.Name.Local, t, want)
	}
	if err := d.DecodeElement(v, &start); err != nil {
		return err
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if !ignorable(tok) {
			return errors.New("unexpected data after the root element")
		}
	}
}

func rootElement(d *stdxml.Decoder) (stdxml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return stdxml.StartElement{}, err
		}
		if start, ok := tok.(stdxml.StartElement); ok {
			return start, nil
		}
		if !ignorable(tok) {
			return stdxml.StartElement{}, errors.New("unexpected data before the root element")
		}
	}
}

func ignorable(tok stdxml.Token) bool {
	switch tok := tok.(type) {
	case stdxml.CharData:
		return len(bytes.TrimSpace(tok)) == 0
	case stdxml.Comment, stdxml.ProcInst, stdxml.Directive:
		return true
	}
	return false
}

var (
	xmlNameType     = reflect.TypeFor[stdxml.Name]()
	marshalerType   = reflect.TypeFor[stdxml.Marshaler]()
	unmarshalerType = reflect.TypeFor[stdxml.Unmarshaler]()
)

// elementName returns the root element name encoding/xml uses for t, and
// false when the name is chosen elsewhere (an XMLName field, which
// encoding/xml checks itself, or an xml.Marshaler) or t has no name.
func elementName(t reflect.Type) (string, bool) {
	if hasXMLName(t) || check.Implements(t, marshalerType, unmarshalerType) {
		return "", false
	}
	n := t.Name()
	if i := strings.IndexByte(n, '['); i >= 0 {
		n = n[:i] // generic type: encoding/xml drops the type arguments
	}
	return n, n != ""
}

func hasXMLName(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	f, ok := t.FieldByName("XMLName")
	return ok && f.Type == xmlNameType
}

// checkRoot rejects top-level types that cannot form one XML document.
func checkRoot(t reflect.Type) error {
	if t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8 {
		return errors.New("a top-level slice would become several root elements; wrap it in a struct")
	}
	if t.Name() == "" && !hasXMLName(t) && !check.Implements(t, marshalerType, unmarshalerType) {
		return fmt.Errorf("the root element needs a name and unnamed type %s has none; use a named type or a struct", t)
	}
	return nil
}

var policy = &check.Policy{
	Tag: "xml",
	Opaque: func(t reflect.Type) bool {
		return check.Implements(t, marshalerType, unmarshalerType,
			reflect.TypeFor[encoding.TextMarshaler](), reflect.TypeFor[encoding.TextUnmarshaler](),
			reflect.TypeFor[stdxml.MarshalerAttr](), reflect.TypeFor[stdxml.UnmarshalerAttr]())
	},
	Kind:  kindProblem,
	Value: valueProblem,
}

func kindProblem(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Map:
		return "XML has no representation for Go maps; use a slice of key/value structs"
	case reflect.Interface:
		return "encoding/xml cannot decode into interface values, so the value could not round-trip"
	case reflect.Array:
		return "encoding/xml can encode arrays but cannot decode them; use a slice"
	case reflect.Pointer:
		if t.Elem().Kind() == reflect.Pointer {
			return "encoding/xml cannot decode pointers to pointers"
		}
	case reflect.Slice:
		e := t.Elem()
		for e.Kind() == reflect.Pointer {
			e = e.Elem()
		}
		if (e.Kind() == reflect.Slice && e.Elem().Kind() != reflect.Uint8) || e.Kind() == reflect.Array {
			return "encoding/xml flattens nested slices, so the inner boundaries would be lost"
		}
	case reflect.Chan, reflect.Func, reflect.Complex64, reflect.Complex128, reflect.UnsafePointer:
		return "XML has no representation for " + t.Kind().String() + " values"
	}
	return ""
}

func valueProblem(v reflect.Value) string {
	if v.Kind() == reflect.String {
		return textProblem(v.String(), utf8.DecodeRuneInString)
	}
	switch v.Type().Elem().Kind() {
	case reflect.Uint8:
		return textProblem(v.Bytes(), utf8.DecodeRune)
	case reflect.Pointer, reflect.Interface:
		for i := range v.Len() {
			if v.Index(i).IsNil() {
				return fmt.Sprintf("element %d is nil and encoding/xml would drop it", i)
			}
		}
	}
	return ""
}

// textProblem reports the first byte sequence in s that XML 1.0 cannot
// carry; encoding/xml would silently replace it with U+FFFD.
func textProblem[S string | []byte](s S, decode func(S) (rune, int)) string {
	for i := 0; i < len(s); {
		c := s[i]
		if (c >= 0x20 && c < utf8.RuneSelf) || c == '\t' || c == '\n' || c == '\r' {
			i++
			continue
		}
		r, size := decode(s[i:])
		if r == utf8.RuneError && size == 1 {
			return fmt.Sprintf("invalid UTF-8 byte 0x%02x at offset %d cannot be written to XML", c, i)
		}
		if !legalChar(r) {
			return fmt.Sprintf("character %U at byte offset %d is not allowed in XML 1.0 (encoding/xml would replace it with U+FFFD)", r, i)
		}
		i += size
	}
	return ""
}

// legalChar reports whether r is in the XML 1.0 Char production.
func legalChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= 0x10FFFF)
}

// maxIndirect bounds the pointers Marshal follows to reach a value, so that
// a pointer to itself (type P *P) fails instead of looping.
const maxIndirect = 16
