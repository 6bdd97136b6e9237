package dotnetxml

import (
	"errors"
	"fmt"
	"reflect"
)

// maxDepth bounds element nesting on both encode (a pointer cycle) and
// decode (hostile input for a recursive type).
const maxDepth = 1000

// encoder appends one document to buf.
type encoder struct {
	buf   []byte
	depth int
}

// element writes v, which is not null, as the element name: "<name />"
// when it has no content, else "<name>content</name>".
func (e *encoder) element(name string, p *plan, v reflect.Value) error {
	for p.kind == pointerKind {
		v, p = v.Elem(), p.elem
	}
	if e.depth++; e.depth > maxDepth {
		return errors.New("nested deeper than 1000 elements (a pointer cycle?)")
	}
	defer func() { e.depth-- }()
	e.buf = append(append(append(e.buf, '<'), name...), '>')
	mark := len(e.buf)
	var err error
	switch p.kind {
	case textKind:
		e.buf, err = p.format(e.buf, v)
	case structKind:
		err = e.properties(p, v)
	case sliceKind:
		err = e.items(p, v)
	}
	if err != nil {
		return err
	}
	if len(e.buf) == mark {
		e.buf = append(e.buf[:mark-1], " />"...)
		return nil
	}
	e.buf = append(append(append(e.buf, "</"...), name...), '>')
	return nil
}

// properties writes a struct's fields in declaration order, leaving out
// null ones.
func (e *encoder) properties(p *plan, v reflect.Value) error {
	for i := range p.fields {
		f := &p.fields[i]
		fv := v.FieldByIndex(f.index)
		if f.plan.null != nil && f.plan.null(fv) {
			continue
		}
		if err := e.element(f.name, f.plan, fv); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return nil
}

// items writes a list's items, each named after its type. A nil pointer
// or slice item is .NET's null item, written as XmlSerializer writes it
// (see nilItem); an empty string item is "" (<string />), not null.
func (e *encoder) items(p *plan, v reflect.Value) error {
	for i := range v.Len() {
		iv := v.Index(i)
		if k := iv.Kind(); (k == reflect.Pointer || k == reflect.Slice) && p.elem.null != nil && iv.IsNil() {
			e.buf = append(append(append(e.buf, '<'), p.elem.name...), nilItem...)
			continue
		}
		if err := e.element(p.elem.name, p.elem, iv); err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
	}
	return nil
}

// nilItem ends the element of a null list item as Mono's XmlSerializer
// writes it under NetMessage's empty namespace list: xsi:nil, with the
// declaration of the xsi prefix on the element itself.
const nilItem = ` xsi:nil="true" xmlns:xsi="` + xsiNamespace + `" />`

// xsiNamespace is the XML Schema instance namespace, of xsi:nil.
const xsiNamespace = "http://www.w3.org/2001/XMLSchema-instance"
