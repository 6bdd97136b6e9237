package dotnetxml

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// decoder reads elements into values with encoding/xml's tokenizer, which
// checks well-formedness, resolves entities and character references and
// normalizes line ends as .NET's XmlReader does.
type decoder struct {
	x     *xml.Decoder
	depth int
	text  strings.Builder
}

// element decodes the element that start opened into v.
func (d *decoder) element(p *plan, v reflect.Value, start xml.StartElement) error {
	if isNilElement(start) {
		v.SetZero()
		return documentError(d.x.Skip())
	}
	for p.kind == pointerKind {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v, p = v.Elem(), p.elem
	}
	if d.depth++; d.depth > maxDepth {
		return errors.New("nested deeper than 1000 elements")
	}
	defer func() { d.depth-- }()
	switch p.kind {
	case textKind:
		s, err := d.readText(start)
		if err != nil {
			return err
		}
		if err := p.parse(s, v); err != nil {
			return fmt.Errorf("<%s>: %w", start.Name.Local, err)
		}
		return nil
	case structKind:
		return d.children(start, func(child xml.StartElement) (bool, error) {
			i, ok := p.byName[child.Name.Local]
			if !ok {
				return false, nil
			}
			f := &p.fields[i]
			if err := d.element(f.plan, v.FieldByIndex(f.index), child); err != nil {
				if _, ok := err.(docError); ok {
					return true, err
				}
				return true, fmt.Errorf("%s: %w", f.name, err)
			}
			return true, nil
		})
	case sliceKind:
		v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		return d.children(start, func(child xml.StartElement) (bool, error) {
			if child.Name.Local != p.elem.name {
				return false, nil
			}
			item := reflect.New(v.Type().Elem()).Elem()
			if err := d.element(p.elem, item, child); err != nil {
				if _, ok := err.(docError); ok {
					return true, err
				}
				return true, fmt.Errorf("item %d: %w", v.Len(), err)
			}
			v.Set(reflect.Append(v, item))
			return true, nil
		})
	}
	return fmt.Errorf("internal error: plan kind %d", p.kind)
}

// children reads the content of the element start opened up to its end,
// passing each child element to f and skipping those f does not take.
// Text between child elements is ignored, as XmlSerializer does.
func (d *decoder) children(start xml.StartElement, f func(xml.StartElement) (bool, error)) error {
	for {
		tok, err := d.x.Token()
		if err != nil {
			return unexpectedEOF(err, start)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			took, err := f(tok)
			if err != nil {
				return err
			}
			if !took {
				if err := d.x.Skip(); err != nil {
					return unexpectedEOF(err, tok)
				}
			}
		case xml.EndElement:
			return nil
		}
	}
}

// readText returns the text content of the element start opened, which
// must have no child elements.
func (d *decoder) readText(start xml.StartElement) (string, error) {
	d.text.Reset()
	for {
		tok, err := d.x.Token()
		if err != nil {
			return "", unexpectedEOF(err, start)
		}
		switch tok := tok.(type) {
		case xml.CharData:
			d.text.Write(tok)
		case xml.StartElement:
			return "", docError{fmt.Errorf("<%s>: unexpected child element <%s> in a text value", start.Name.Local, tok.Name.Local)}
		case xml.EndElement:
			return d.text.String(), nil
		}
	}
}

// isNilElement reports whether start carries xsi:nil="true", .NET's mark
// of a null value.
func isNilElement(start xml.StartElement) bool {
	for _, a := range start.Attr {
		if a.Name.Local == "nil" && a.Name.Space != "" && strings.Trim(a.Value, xmlSpace) == "true" {
			return true
		}
	}
	return false
}

// unexpectedEOF returns the documentError of err, an error of the
// tokenizer inside the element start opened.
func unexpectedEOF(err error, start xml.StartElement) error {
	if errors.Is(err, io.EOF) {
		err = fmt.Errorf("document ends inside <%s>", start.Name.Local)
	}
	return documentError(err)
}

// A docError is an error in the document's markup rather than in one
// value: a syntax error (with its line), or an element where text was
// expected. The decoder passes it up as it is, without the field names
// and item numbers it puts before a value's error at each level: such an
// error may quote a name or entity as long as the input, which a copy at
// each of 32 levels would multiply.
type docError struct{ err error }

func (e docError) Error() string { return e.err.Error() }
func (e docError) Unwrap() error { return e.err }

// documentError returns err as a docError, or nil.
func documentError(err error) error {
	if err == nil {
		return nil
	}
	return docError{err}
}
