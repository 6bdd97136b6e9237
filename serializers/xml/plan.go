package xml

import (
	"encoding"
	"reflect"
	"strings"
	"sync"

	"github.com/netmessage-go/netmessage/serializers/internal/check"
)

// pkind is how encoding/xml decodes an element into a Go type, as far as
// the memory it allocates is concerned.
type pkind uint8

const (
	skipKind   pkind = iota // the element is skipped: only its tokens are read
	textKind                // the text is collected, then copied: strings, numbers, []byte
	opaqueKind              // the type decodes itself (Unmarshaler, TextUnmarshaler)
	structKind              // child elements are matched to fields
	pathKind                // an element on a field's path ("a>b"): children are matched to fields
)

// plan is the decoding cost model of one Go type (or one step of a path),
// built once per type.
type plan struct {
	kind pkind
	size int64
	// Structs and paths: the fields child elements decode into, by local
	// name, and the ",any" field that takes the others.
	children map[string]*field
	any      *field
	// Structs: ",chardata", ",comment", ",innerxml" and attribute fields;
	// the number of slice fields (counted per element); embedded pointers
	// allocated when a field is reached through them (once per value); an
	// XMLName field.
	chardata, comment, innerXML, attrs, xmlName bool
	// Text: a number or bool, whose parse error quotes the text.
	parsed   bool
	slices   []int64 // element sizes of the slice fields
	embedded int64
}

// field is where a child element goes: plan is what it decodes into,
// alloc what is allocated to reach it (a pointer), and slice the index of
// its slice among its struct's, or -1.
type field struct {
	plan  *plan
	alloc int64
	slice int
}

var (
	plans    sync.Map // reflect.Type -> *plan
	skipPlan = &plan{kind: skipKind}
)

func planFor(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	b := planBuilder{seen: make(map[reflect.Type]*plan)}
	p := b.build(t)
	actual, _ := plans.LoadOrStore(t, p)
	return actual.(*plan)
}

type planBuilder struct {
	seen map[reflect.Type]*plan
}

var (
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// build returns the plan of t, which policy.Type accepts: no maps,
// interfaces, arrays or pointers to pointers.
func (b *planBuilder) build(t reflect.Type) *plan {
	if p, ok := b.seen[t]; ok {
		return p
	}
	opaque := check.Implements(t, unmarshalerType, textUnmarshalerType)
	if t.Kind() == reflect.Pointer || !opaque && t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8 {
		return b.build(t.Elem()) // what is allocated on the way is charged by the field
	}
	p := &plan{size: int64(t.Size())}
	b.seen[t] = p
	switch {
	case opaque:
		p.kind = opaqueKind
	case t.Kind() == reflect.Struct:
		p.kind = structKind
		p.children = make(map[string]*field)
		b.addFields(p, t)
	default:
		p.kind = textKind
		p.parsed = t.Kind() != reflect.String && t.Kind() != reflect.Slice
	}
	return p
}

// addFields adds t's fields to p as encoding/xml's getTypeInfo resolves
// them: embedded structs (or pointers to them, allocated when nil) are
// inlined; a field is named by its tag, else by the XMLName of its type,
// else its Go name; a tag "a>b>c" puts it under a path. Where two fields
// share a local name (in different namespaces), the one that costs more
// per element is kept.
func (b *planBuilder) addFields(p *plan, t reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("xml")
		if (!f.IsExported() && !f.Anonymous) || tag == "-" {
			continue
		}
		if f.Anonymous {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				if f.Type.Kind() == reflect.Pointer {
					p.embedded += check.Alloc(int64(et.Size()))
				}
				b.addFields(p, et)
				continue
			}
		}
		if _, t, ok := strings.Cut(tag, " "); ok {
			tag = t // the namespace is not checked: both fields are candidates
		}
		name, flags, _ := strings.Cut(tag, ",")
		if f.Name == "XMLName" {
			p.xmlName = true
			continue
		}
		mode := ""
		for fl := range strings.SplitSeq(flags, ",") {
			if fl != "omitempty" && fl != "" {
				mode += "," + fl
			}
		}
		switch mode {
		case ",attr", ",any,attr":
			p.attrs = true
			continue
		case ",chardata", ",cdata":
			p.chardata = true
			continue
		case ",comment":
			p.comment = true
			continue
		case ",innerxml":
			p.innerXML = true
			continue
		}
		fd := b.field(p, f.Type)
		if mode == ",any" {
			p.any = fd
		}
		if name == "" {
			name = f.Name
			if xn := xmlNameOf(f.Type); xn != "" {
				name = xn
			}
		}
		parents := strings.Split(name, ">")
		if parents[0] == "" {
			parents[0] = f.Name
		}
		at := p
		for _, step := range parents[:len(parents)-1] {
			next := at.children[step]
			if next == nil || next.plan.kind != pathKind {
				next = &field{plan: &plan{kind: pathKind, children: make(map[string]*field)}, slice: -1}
				at.children[step] = next
			}
			at = next.plan
		}
		last := parents[len(parents)-1]
		if old := at.children[last]; old == nil || weight(fd) > weight(old) {
			at.children[last] = fd
		}
	}
}

// field returns where an element decoded into a field of type t goes;
// slices get the next count of p.
func (b *planBuilder) field(p *plan, t reflect.Type) *field {
	fd := &field{slice: -1}
	if t.Kind() == reflect.Pointer {
		fd.alloc = check.Alloc(int64(t.Elem().Size()))
		t = t.Elem()
	}
	if t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8 && !check.Implements(t, unmarshalerType, textUnmarshalerType) {
		fd.slice = len(p.slices)
		p.slices = append(p.slices, int64(t.Elem().Size()))
		t = t.Elem()
	}
	if t.Kind() == reflect.Pointer {
		fd.alloc += check.Alloc(int64(t.Elem().Size()))
		t = t.Elem()
	}
	fd.plan = b.build(t)
	return fd
}

// weight orders fields by what one element costs, for choosing between
// two with the same local name.
func weight(f *field) int64 {
	w := f.alloc + f.plan.size
	if f.slice >= 0 {
		w += 5 * f.plan.size
	}
	if f.plan.kind == opaqueKind {
		w += 1 << 20
	}
	return w
}

// xmlNameOf returns the name in the tag of t's XMLName field (t or what
// it points to being a struct), or "".
func xmlNameOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return ""
	}
	f, ok := t.FieldByName("XMLName")
	if !ok {
		return ""
	}
	tag := f.Tag.Get("xml")
	if _, t, ok := strings.Cut(tag, " "); ok {
		tag = t
	}
	name, _, _ := strings.Cut(tag, ",")
	return name
}
