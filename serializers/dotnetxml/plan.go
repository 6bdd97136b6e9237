package dotnetxml

import (
	"fmt"
	"reflect"
	"sync"
	"unicode"
	"unicode/utf8"
)

// kind says how a plan's values appear in XML.
type kind uint8

const (
	textKind    kind = iota // the element's text: scalars, dates, enums, Guid, base64
	structKind              // one child element per property
	sliceKind               // one child element per item, named after the item type
	pointerKind             // the pointed-to value; nil is omitted
)

// plan is how one Go type is encoded and decoded, built once per type.
type plan struct {
	kind kind
	// name is the element name of a value of the type standing alone: the
	// root element, or an item of a list.
	name string
	// null reports whether a property value is .NET's null, which is
	// omitted. nil means the type has no null.
	null func(reflect.Value) bool

	format func(dst []byte, v reflect.Value) ([]byte, error) // textKind: appends the escaped text
	parse  func(s string, v reflect.Value) error             // textKind: sets v from the text
	cost   parseCost                                         // textKind: what parse allocates

	fields []field        // structKind, in declaration order
	byName map[string]int // structKind: element name -> index in fields
	elem   *plan          // sliceKind, pointerKind
	typ    reflect.Type   // the Go type
}

// field is one property of a struct plan.
type field struct {
	name  string
	index []int
	plan  *plan
}

type planResult struct {
	p   *plan
	err error
}

var plans sync.Map // reflect.Type -> planResult

// planFor returns the cached plan of t, building it on first use.
func planFor(t reflect.Type) (*plan, error) {
	if r, ok := plans.Load(t); ok {
		r := r.(planResult)
		return r.p, r.err
	}
	b := builder{seen: make(map[reflect.Type]*plan)}
	p, err := b.build(t)
	r, _ := plans.LoadOrStore(t, planResult{p, err})
	return r.(planResult).p, r.(planResult).err
}

// rootPlan is planFor for a type written as a whole document.
func rootPlan(t reflect.Type) (*plan, error) {
	p, err := planFor(t)
	if err == nil && !validName(p.name) {
		err = fmt.Errorf("unsupported type %s: it has no root element name (name the type, or add a DotNetName method)", t)
	}
	return p, err
}

// builder builds the plan of one type and the types it contains. seen
// holds struct plans under construction, so recursive types terminate.
type builder struct {
	seen map[reflect.Type]*plan
}

func (b *builder) build(t reflect.Type) (*plan, error) {
	if p, ok := b.seen[t]; ok {
		return p, nil
	}
	if p := textPlan(t); p != nil {
		return p, nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		if t.Elem().Kind() == reflect.Pointer {
			return nil, fmt.Errorf("unsupported type %s: pointer to pointer", t)
		}
		elem, err := b.build(t.Elem())
		if err != nil {
			return nil, err
		}
		return &plan{kind: pointerKind, name: elem.name, null: isNil, elem: elem, typ: t}, nil
	case reflect.Slice:
		elem, err := b.build(t.Elem())
		if err != nil {
			return nil, err
		}
		if !validName(elem.name) {
			return nil, fmt.Errorf("unsupported type %s: items of type %s have no element name (name the type, or add a DotNetName method)", t, t.Elem())
		}
		name := "ArrayOf" + upperFirst(elem.name)
		return &plan{kind: sliceKind, name: name, null: isNil, elem: elem, typ: t}, nil
	case reflect.Struct:
		p := &plan{kind: structKind, name: ClassName(t), byName: make(map[string]int), typ: t}
		if !validName(p.name) {
			return nil, fmt.Errorf("unsupported type %s: %q is not a .NET class name (name the type, or add a DotNetName method)", t, p.name)
		}
		b.seen[t] = p
		if err := b.addFields(p, t, nil); err != nil {
			return nil, err
		}
		return p, nil
	case reflect.Map:
		return nil, fmt.Errorf("unsupported type %s: XmlSerializer has no mapping for dictionaries; use a slice of key/value structs", t)
	case reflect.Array:
		return nil, fmt.Errorf("unsupported type %s: use a slice for a .NET array or list", t)
	}
	return nil, fmt.Errorf("unsupported type %s: no .NET mapping", t)
}

// addFields appends t's properties to p: its exported fields in
// declaration order, with embedded structs flattened in place (as a .NET
// base class's properties come first). The tag `dotnet:"Name"` renames a
// field's element; `dotnet:"-"` skips the field.
func (b *builder) addFields(p *plan, t reflect.Type, index []int) error {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("dotnet")
		if tag == "-" {
			continue
		}
		at := append(index[:len(index):len(index)], i)
		if f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct && textPlan(f.Type) == nil {
			if err := b.addFields(p, f.Type, at); err != nil {
				return err
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if f.Anonymous && f.Type.Kind() == reflect.Pointer {
			return fmt.Errorf("field %s.%s: embedded pointers are not supported; embed the struct or name the field", t.Name(), f.Name)
		}
		name := f.Name
		if tag != "" {
			name = tag
		}
		if !validName(name) {
			return fmt.Errorf("field %s.%s: %q is not an XML element name", t.Name(), f.Name, name)
		}
		fp, err := b.build(f.Type)
		if err != nil {
			return fmt.Errorf("field %s.%s: %w", t.Name(), f.Name, err)
		}
		if _, dup := p.byName[name]; dup {
			return fmt.Errorf("field %s.%s: a second property named %q", t.Name(), f.Name, name)
		}
		p.byName[name] = len(p.fields)
		p.fields = append(p.fields, field{name: name, index: at, plan: fp})
	}
	return nil
}

func isNil(v reflect.Value) bool { return v.IsNil() }

func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// validName reports whether s is a usable XML element name: a letter or
// underscore, then letters, digits, '_', '-' and '.'.
func validName(s string) bool {
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && (r == '-' || r == '.' || unicode.IsDigit(r)):
		default:
			return false
		}
	}
	return s != ""
}
