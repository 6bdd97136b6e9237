package xml

import (
	"encoding"
	"reflect"
	"slices"
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
// else its Go name; a tag "a>b>c" puts it under a path. An element goes
// to the first field, in encoding/xml's order, whose name or path matches
// it. Where that field names a namespace, a later one takes the elements
// of other namespaces, which the estimate cannot tell apart, so it keeps
// one of the two as a guess: of two fields, the one that costs more per
// element; a path in place of a field; a field in place of a path if it
// weighs more (docs/reliability.md says where this falls short).
func (b *planBuilder) addFields(p *plan, t reflect.Type) {
	b.addFlags(p, t)
	passable := make(map[*field]bool) // taken first by a namespaced field
	for _, c := range elementFields(t, nil) {
		fd := b.field(p, c.typ)
		if c.any && p.any == nil {
			p.any = fd
		}
		at := p
		for _, step := range c.parents {
			next := at.children[step]
			if next != nil && next.plan.kind != pathKind && !passable[next] {
				next = nil
				at = nil // an earlier field takes the element
				break
			}
			if next == nil || next.plan.kind != pathKind {
				next = &field{plan: &plan{kind: pathKind, children: make(map[string]*field)}, slice: -1}
				at.children[step] = next
				passable[next] = c.xmlns != ""
			}
			at = next.plan
		}
		if at == nil {
			continue
		}
		old := at.children[c.name]
		if old == nil || passable[old] && weight(fd) > weight(old) {
			at.children[c.name] = fd
			passable[fd] = c.xmlns != ""
		}
	}
}

// addFlags records what t's fields other than elements decode: attributes,
// character data, comments, inner XML, an XMLName, and the embedded
// pointers allocated to reach fields.
func (b *planBuilder) addFlags(p *plan, t reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("xml")
		if (!f.IsExported() && !f.Anonymous) || tag == "-" {
			continue
		}
		if et, ok := embeddedStruct(f); ok {
			if f.Type.Kind() == reflect.Pointer {
				p.embedded += check.Alloc(int64(et.Size()))
			}
			b.addFlags(p, et)
			continue
		}
		if f.Name == "XMLName" {
			p.xmlName = true
			continue
		}
		switch fieldMode(tag) {
		case ",attr", ",any,attr":
			p.attrs = true
		case ",chardata", ",cdata":
			p.chardata = true
		case ",comment":
			p.comment = true
		case ",innerxml":
			p.innerXML = true
		}
	}
}

// elemField is a field that elements decode into, as encoding/xml's
// getTypeInfo lists it.
type elemField struct {
	typ         reflect.Type
	xmlns, name string
	parents     []string
	depth       int // embedded structs on the way
	any         bool
}

// elementFields returns, in encoding/xml's order, the fields of t (and of
// the structs it embeds) that child elements decode into: of fields whose
// paths conflict, the shallowest is kept, as addFieldInfo does.
func elementFields(t reflect.Type, fields []elemField) []elemField {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("xml")
		if (!f.IsExported() && !f.Anonymous) || tag == "-" {
			continue
		}
		if et, ok := embeddedStruct(f); ok {
			for _, c := range elementFields(et, nil) {
				c.depth++
				fields = addElementField(fields, c)
			}
			continue
		}
		mode := fieldMode(tag)
		if f.Name == "XMLName" || mode != "" && mode != ",any" {
			continue
		}
		c := elemField{typ: f.Type, any: mode == ",any"}
		if ns, rest, ok := strings.Cut(tag, " "); ok {
			c.xmlns, tag = ns, rest
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			c.name = f.Name
			if ns, xn := xmlNameOf(f.Type); xn != "" {
				c.xmlns, c.name = ns, xn
			}
		} else {
			steps := strings.Split(name, ">")
			if steps[0] == "" {
				steps[0] = f.Name
			}
			c.parents, c.name = steps[:len(steps)-1], steps[len(steps)-1]
		}
		fields = addElementField(fields, c)
	}
	return fields
}

// addElementField appends c to fields unless a shallower field conflicts
// with it (a path that is a prefix of the other's, or the same path), and
// drops the deeper fields that conflict with it.
func addElementField(fields []elemField, c elemField) []elemField {
	var conflicts []int
	for i, old := range fields {
		if old.any != c.any || old.xmlns != "" && c.xmlns != "" && old.xmlns != c.xmlns {
			continue
		}
		a, b := append(slices.Clip(old.parents), old.name), append(slices.Clip(c.parents), c.name)
		n := min(len(a), len(b))
		if !slices.Equal(a[:n], b[:n]) || len(a) == len(b) && old.xmlns != c.xmlns {
			continue
		}
		if old.depth < c.depth {
			return fields
		}
		conflicts = append(conflicts, i)
	}
	for _, i := range slices.Backward(conflicts) {
		if fields[i].depth > c.depth {
			fields = slices.Delete(fields, i, i+1)
		}
	}
	return append(fields, c)
}

// embeddedStruct returns the struct type that an embedded field f
// inlines, if it does.
func embeddedStruct(f reflect.StructField) (reflect.Type, bool) {
	if !f.Anonymous {
		return nil, false
	}
	et := f.Type
	if et.Kind() == reflect.Pointer {
		et = et.Elem()
	}
	return et, et.Kind() == reflect.Struct
}

// fieldMode returns the flags of a field's tag other than omitempty, each
// after a comma: "" for an element, ",attr", ",any", ",chardata", ...
func fieldMode(tag string) string {
	if _, rest, ok := strings.Cut(tag, " "); ok {
		tag = rest
	}
	_, flags, _ := strings.Cut(tag, ",")
	mode := ""
	for fl := range strings.SplitSeq(flags, ",") {
		if fl != "omitempty" && fl != "" {
			mode += "," + fl
		}
	}
	return mode
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

// xmlNameOf returns the namespace and name in the tag of t's XMLName
// field (t or what it points to being a struct), or "".
func xmlNameOf(t reflect.Type) (xmlns, name string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return "", ""
	}
	f, ok := t.FieldByName("XMLName")
	if !ok {
		return "", ""
	}
	tag := f.Tag.Get("xml")
	if ns, rest, ok := strings.Cut(tag, " "); ok {
		xmlns, tag = ns, rest
	}
	name, _, _ = strings.Cut(tag, ",")
	if name == "" {
		return "", ""
	}
	return xmlns, name
}
