package msgpack

import (
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/vmihailenco/tagparser/v2"

	"github.com/netmessage-go/netmessage/serializers/internal/check"
)

// pkind is how vmihailenco/msgpack decodes into a Go type, as far as the
// memory it allocates is concerned.
type pkind uint8

const (
	skipKind   pkind = iota // nothing is allocated: the value is skipped, or the library fails on it
	scalarKind              // bool and numbers: stored in place
	anyKind                 // interface: the library chooses map[string]any, []any, boxed scalars
	opaqueKind              // the type decodes itself: charged as anyKind plus twice its wire size
	stringKind
	bytesKind // []byte
	sliceKind
	arrayKind
	mapKind
	ptrKind
	structKind
)

// plan is the decoding cost model of one Go type, built once per type.
type plan struct {
	kind  pkind
	size  int64 // the type's size
	align int64
	elem  *plan // slices, arrays, pointers, map values
	key   *plan // maps
	// sized maps are made with the entry count as a hint; mapSlot maps
	// allocate each key and value with reflect.New before inserting it.
	sized, newPerEntry bool
	// stringSlice: []string is made once with its length as capacity;
	// other slices are made and then appended to (twice the size).
	stringSlice bool
	fields      map[string]*field // structs: by the names the library matches
	list        []*field          // structs: in the order of the array form
	listNames   []string          // the names of list's fields
	// order is list with each field as fields resolves its name: the
	// order an encoder writes the fields in, which scan tries before
	// looking a name up.
	order []orderedField
	// rate bounds scan's estimate per input byte (see rate.go); 0 until
	// computed.
	rate int64
}

// orderedField is a struct field's name and what fields maps it to.
type orderedField struct {
	name string
	fd   *field
}

// field is a struct field as the library resolves it; alloc is what
// decoding it allocates besides its value: embedded struct pointers on its
// path, allocated when nil.
type field struct {
	plan  *plan
	alloc int64
}

var (
	plans    sync.Map // reflect.Type -> *plan
	skipPlan = &plan{kind: skipKind, rate: 1}
	anyPlan  = &plan{kind: anyKind, size: 16, align: 8, rate: unbounded}
	// keyPlan is a map key the library decodes with DecodeString.
	keyPlan = &plan{kind: stringKind, size: 16, align: 8, rate: rateString}
)

func planFor(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	b := planBuilder{seen: make(map[reflect.Type]*plan)}
	p := b.build(t)
	setRate(p) // before the plan is shared: it writes the plans it built
	actual, _ := plans.LoadOrStore(t, p)
	return actual.(*plan)
}

type planBuilder struct {
	seen    map[reflect.Type]*plan
	probing bool // in inlinable: the library's names only
}

var timeType = reflect.TypeFor[time.Time]()

func (b *planBuilder) build(t reflect.Type) *plan {
	if p, ok := b.seen[t]; ok {
		return p
	}
	p := &plan{size: int64(t.Size()), align: int64(t.Align())}
	b.seen[t] = p
	switch {
	case t.Kind() == reflect.Pointer && t.Elem() != timeType && !policy.Opaque(t.Elem()):
		// The library checks a pointer's element for its own decoding only
		// after the pointer type itself.
		p.kind = ptrKind
		p.elem = b.build(t.Elem())
		return p
	case policy.Opaque(t):
		p.kind = opaqueKind
		return p
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		p.kind = scalarKind
	case reflect.Interface:
		p.kind = anyKind
	case reflect.String:
		p.kind = stringKind
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			p.kind = bytesKind
			break
		}
		p.kind, p.elem = sliceKind, b.build(t.Elem())
		p.stringSlice = t.Elem() == reflect.TypeFor[string]()
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			p.kind = bytesKind // read through a buffer, then copied in place
			break
		}
		p.kind, p.elem = arrayKind, b.build(t.Elem())
	case reflect.Map:
		p.kind, p.key, p.elem, p.sized = mapKind, b.build(t.Key()), b.build(t.Elem()), true
		if t.Key().Kind() == reflect.String && t.Key().Name() == "string" {
			switch {
			case t.Elem() == reflect.TypeFor[string]():
				p.key = keyPlan // decodeMapStringString: no reflect.New per entry
				return p
			case t.Elem().Kind() == reflect.Interface && t.Elem().NumMethod() == 0:
				p.key, p.elem = keyPlan, anyPlan // DecodeMap, as for an interface
				return p
			}
		}
		p.newPerEntry = true
	case reflect.Struct:
		p.kind = structKind
		p.fields = make(map[string]*field)
		probing := b.probing // a type met while probing is built whole
		b.probing = false
		b.addFields(p, t, 0, false)
		b.probing = probing
		for _, name := range p.listNames {
			if fd := p.fields[name]; fd != nil {
				p.order = append(p.order, orderedField{name, fd})
			}
		}
	default:
		p.kind = skipKind // refused by policy.Type before decoding
	}
	return p
}

// addFields resolves t's fields as vmihailenco/msgpack v5.4.1's getFields
// does with the default "msgpack" tag: a field is named by its tag or its
// Go name; an embedded struct (or pointer to one) is inlined unless tagged
// noinline, and unless one of its names is already taken (without the
// inline option, a shadowed field is left out), and stays reachable under
// its own name too; an "alias" option adds a second name, and so does a
// "msg" tag (the names of code generated by tinylib/msgp), even on a field
// the library skips. The tag is read with the library's own parser, which
// trims spaces around names and options and reads "key:value" and quotes.
// alloc is the size of embedded pointers on the way.
func (b *planBuilder) addFields(p *plan, t reflect.Type, alloc int64, inlined bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := tagparser.Parse(f.Tag.Get("msgpack"))
		name := tag.Name
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		// Code generated by tinylib/msgp names fields by their "msg" tag
		// unless told otherwise: the name is charged as an alias.
		alt, _, _ := strings.Cut(f.Tag.Get("msg"), ",")
		if b.probing {
			alt = ""
		}
		if name == "-" {
			if _, taken := p.fields[alt]; alt != "" && alt != "-" && !taken {
				p.fields[alt] = &field{plan: b.build(f.Type), alloc: alloc}
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		fd := &field{plan: b.build(f.Type), alloc: alloc}
		if f.Anonymous && !tag.HasOption("noinline") {
			et, ealloc := f.Type, alloc
			for et.Kind() == reflect.Pointer {
				ealloc += int64(et.Elem().Size())
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct && (tag.HasOption("inline") || b.inlinable(p, et)) && !policy.Opaque(et) {
				b.addFields(p, et, ealloc, true)
				if _, dup := p.fields[name]; !dup || !inlined {
					p.fields[name] = fd
				}
				continue
			}
		}
		if _, dup := p.fields[name]; dup && inlined {
			continue // shadowed by a field of the outer struct
		}
		p.list = append(p.list, fd)
		p.listNames = append(p.listNames, name)
		p.fields[name] = fd
		if alias, ok := tag.Options["alias"]; ok {
			p.fields[alias] = fd
		}
		if _, taken := p.fields[alt]; alt != "" && alt != "-" && !taken {
			p.fields[alt] = fd
		}
	}
}

// inlinable reports whether none of t's field names is taken in p yet.
func (b *planBuilder) inlinable(p *plan, t reflect.Type) bool {
	probe := &plan{fields: make(map[string]*field)}
	probing := b.probing
	b.probing = true
	b.addFields(probe, t, 0, false)
	b.probing = probing
	for name := range probe.fields {
		if _, ok := p.fields[name]; ok {
			return false
		}
	}
	return true
}

// stringCost is what reading a string or key of n bytes allocates: the
// string itself when keep is set, and the growth of the decoder's read
// buffer, which starts at 64 bytes (charged in fixedHeap).
func stringCost(n int64, keep bool) int64 {
	var c int64
	if keep {
		c = check.Alloc(n)
	}
	if n > 64 {
		c += check.Alloc(n) + check.Alloc(2*n)
	}
	return c
}
