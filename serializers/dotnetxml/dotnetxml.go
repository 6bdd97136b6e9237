package dotnetxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/netmessage-go/netmessage/serializers/internal/check"
)

const name = "dotnetxml"

// Serializer encodes values in the XML that .NET's XmlSerializer writes and
// reads, as configured by the original NetMessage. The zero value is ready
// to use; it keeps only a cache of per-type plans and is safe for
// concurrent use.
type Serializer struct{}

// New returns a Serializer.
func New() Serializer { return Serializer{} }

// Name returns "dotnetxml".
func (Serializer) Name() string { return name }

// Marshal returns the XML document for v: a root element named after v's
// .NET type (see [ClassName]) holding v's properties. v may be a pointer.
// It returns an error, and nothing else, when v's type has no .NET mapping
// or v holds a value .NET cannot read back (a character XML 1.0 forbids,
// a number out of range of its .NET type, a date outside years 1 to 9999).
func (Serializer) Marshal(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return nil, errors.New("dotnetxml: marshal nil: no XML representation")
	}
	for depth := 0; rv.Kind() == reflect.Pointer; depth++ {
		if rv.IsNil() {
			return nil, fmt.Errorf("dotnetxml: marshal nil %s: no XML representation", rv.Type())
		}
		if depth == maxIndirect {
			return nil, fmt.Errorf("dotnetxml: marshal %s: more than %d pointers to a value (a pointer cycle?)", reflect.TypeOf(v), maxIndirect)
		}
		rv = rv.Elem()
	}
	p, err := rootPlan(rv.Type())
	if err != nil {
		return nil, fmt.Errorf("dotnetxml: marshal %s: %w", rv.Type(), err)
	}
	e := encoder{buf: make([]byte, 0, 256)}
	if err := e.element(p.name, p, rv); err != nil {
		return nil, fmt.Errorf("dotnetxml: marshal %s: %w", rv.Type(), err)
	}
	return e.buf, nil
}

// Unmarshal decodes the XML document in data into v, a non-nil pointer.
// The root element must be named as Marshal names it; what v points to is
// reset to its zero value first. Elements v's type does not know are
// skipped, elements may come in any order, and an element with
// xsi:nil="true" leaves its field at its zero value.
func (Serializer) Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("dotnetxml: unmarshal needs a non-nil pointer, got %T", v)
	}
	t := rv.Type().Elem()
	p, err := rootPlan(t)
	if err != nil {
		return check.Wrap(name, "unmarshal", t, err)
	}
	if err := checkCost(data, p); err != nil {
		return check.Wrap(name, "unmarshal", t, err)
	}
	if err := decodeDocument(data, p, rv.Elem()); err != nil {
		// check.Error keeps a message quoting the input short.
		return check.Wrap(name, "unmarshal", t, err)
	}
	return nil
}

// decodeDocument decodes the root element into v, allowing only
// whitespace, comments, processing instructions (such as an XML
// declaration) and directives around it.
func decodeDocument(data []byte, p *plan, v reflect.Value) error {
	d := decoder{x: xml.NewDecoder(bytes.NewReader(data))}
	var start xml.StartElement
	for {
		tok, err := d.x.Token()
		if err == io.EOF {
			return errors.New("no root element")
		}
		if err != nil {
			return err
		}
		if s, ok := tok.(xml.StartElement); ok {
			start = s
			break
		}
		if !ignorable(tok) {
			return errors.New("text before the root element")
		}
	}
	if start.Name.Local != p.name {
		return fmt.Errorf("root element <%s>, want <%s>", start.Name.Local, p.name)
	}
	v.SetZero()
	if err := d.element(p, v, start); err != nil {
		return err
	}
	for {
		tok, err := d.x.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if !ignorable(tok) {
			return errors.New("data after the root element")
		}
	}
}

func ignorable(tok xml.Token) bool {
	switch tok := tok.(type) {
	case xml.CharData:
		return len(bytes.Trim(tok, xmlSpace)) == 0
	case xml.Comment, xml.ProcInst, xml.Directive:
		return true
	}
	return false
}

// xmlSpace holds the characters XML calls white space.
const xmlSpace = " \t\r\n"

// ClassNamer is implemented by Go types whose .NET class (or enum) name
// differs from the Go type's name. The name is the class's own name,
// without its namespace:
//
//	func (Forecast) DotNetName() string { return "WeatherResponse" }
//
// It names the root element, the items of lists of the type, and (with
// package netmessage/dotnet) the last part of the type id.
type ClassNamer interface {
	// DotNetName returns the .NET class name of the type.
	DotNetName() string
}

var classNamerType = reflect.TypeFor[ClassNamer]()

// ClassName returns the .NET class name of t (a pointer type stands for
// the type it points to): its DotNetName if t implements [ClassNamer],
// else its Go name.
func ClassName(t reflect.Type) string {
	for depth := 0; t.Kind() == reflect.Pointer && depth < maxIndirect; depth++ {
		t = t.Elem()
	}
	if t.Kind() == reflect.Interface || t.Kind() == reflect.Pointer {
		return t.Name() // no value to ask
	}
	if t.Implements(classNamerType) {
		return reflect.Zero(t).Interface().(ClassNamer).DotNetName()
	}
	if reflect.PointerTo(t).Implements(classNamerType) {
		return reflect.New(t).Interface().(ClassNamer).DotNetName()
	}
	return t.Name()
}

// maxReadDepth bounds the element nesting Unmarshal reads, checked before
// decoding: encoding/xml's tokenizer keeps each open element on its
// stack, even inside elements that are skipped, and the decoder recurses
// for each level.
const maxReadDepth = 32

// maxIndirect bounds the pointers followed to reach a value or type, so
// that a pointer to itself (type P *P) fails instead of looping.
const maxIndirect = 16
