package json

import (
	stdjson "encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"
)

// pkind is how encoding/json decodes into a Go type, as far as the memory
// it allocates is concerned.
type pkind uint8

const (
	skipKind   pkind = iota // no target: the value is skipped without allocating
	anyKind                 // empty interface: map[string]any, []any, boxed scalars
	opaqueKind              // the type decodes itself: charged as anyKind plus opaquePerByte per wire byte
	ifaceKind               // interface with methods: every value is a type error
	boolKind
	numKind    // integers and floats: stored in place
	stringKind // also json.Number, which accepts numbers
	bytesKind  // []byte: base64 from a string, or an array of numbers
	sliceKind
	arrayKind
	mapKind
	ptrKind
	structKind
)

// plan is the decoding cost model of one Go type, built once per type.
type plan struct {
	kind   pkind
	size   int64 // the type's size
	align  int64
	ptr    bool  // the type holds pointers
	number bool  // stringKind: json.Number, which also takes number literals
	bits   int   // numKind: 0 for integers, 32 or 64 for floats
	digits int   // numKind integers: literals this long or longer may overflow
	uint   bool  // numKind: unsigned
	elem   *plan // slices, arrays (len in n), pointers, map values
	key    *plan // maps
	n      int   // arrays: length
	// structs: fields by name and by folded name, as encoding/json's
	// cachedTypeFields resolves them.
	exact, folded map[string]*field
	maxFold       int // the longest folded name
}

// field is a struct field as encoding/json resolves it.
type field struct {
	plan   *plan
	path   int   // len(index): entries pushed on the decoder's field stack
	alloc  int64 // embedded struct pointers on the way, allocated when nil
	quoted bool  // the ",string" option
}

var (
	plans    sync.Map // reflect.Type -> *plan
	skipPlan = &plan{kind: skipKind}
	anyPlan  = &plan{kind: anyKind, size: 16, align: 8, ptr: true}
	// stringPlan is the key of map[string]any.
	stringPlan = &plan{kind: stringKind, size: 16, align: 8, ptr: true}
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

var numberType = reflect.TypeFor[stdjson.Number]()

// intDigits is, per integer size in bytes, the shortest literal (sign
// included) that may not fit: shorter ones always parse.
var intDigits = map[uintptr]int{1: 3, 2: 5, 4: 10, 8: 19}

func (b *planBuilder) build(t reflect.Type) *plan {
	if p, ok := b.seen[t]; ok {
		return p
	}
	p := &plan{size: int64(t.Size()), align: int64(t.Align()), ptr: hasPointers(t)}
	b.seen[t] = p
	switch {
	case t.Kind() == reflect.Pointer:
		// encoding/json allocates a nil pointer before it looks for
		// methods on it.
		p.kind = ptrKind
		p.elem = b.build(t.Elem())
		return p
	case policy.Opaque(t):
		p.kind = opaqueKind
		return p
	}
	switch t.Kind() {
	case reflect.Bool:
		p.kind = boolKind
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		p.kind, p.digits = numKind, intDigits[t.Size()]
		p.uint = t.Kind() >= reflect.Uint
	case reflect.Float32, reflect.Float64:
		p.kind, p.bits = numKind, t.Bits()
	case reflect.Interface:
		p.kind = anyKind
		if t.NumMethod() > 0 {
			p.kind = ifaceKind
		}
	case reflect.String:
		p.kind, p.number = stringKind, t == numberType
	case reflect.Slice:
		p.kind, p.elem = sliceKind, b.build(t.Elem())
		if t.Elem().Kind() == reflect.Uint8 {
			p.kind = bytesKind
		}
	case reflect.Array:
		p.kind, p.elem, p.n = arrayKind, b.build(t.Elem()), t.Len()
	case reflect.Map:
		p.kind, p.key, p.elem = mapKind, b.build(t.Key()), b.build(t.Elem())
	case reflect.Struct:
		p.kind = structKind
		b.addFields(p, t)
	default:
		p.kind = skipKind // refused by policy.Type before decoding
	}
	return p
}

// candidate is a struct field found by addFields before the dominant
// field of each name is chosen.
type candidate struct {
	name   string
	tagged bool
	index  []int
	typ    reflect.Type
	quoted bool
}

// addFields resolves t's fields as encoding/json's typeFields does: tag
// names, embedded structs flattened breadth first, and of several fields
// with one name the shallowest (or the only tagged one among the
// shallowest) kept.
func (b *planBuilder) addFields(p *plan, t reflect.Type) {
	var fields []candidate
	next := []candidate{{typ: t}}
	var count, nextCount map[reflect.Type]int
	visited := make(map[reflect.Type]bool)
	for len(next) > 0 {
		current := next
		next = nil
		count, nextCount = nextCount, make(map[reflect.Type]int)
		for _, f := range current {
			if visited[f.typ] {
				continue
			}
			visited[f.typ] = true
			for i := range f.typ.NumField() {
				sf := f.typ.Field(i)
				if sf.Anonymous {
					et := sf.Type
					if et.Kind() == reflect.Pointer {
						et = et.Elem()
					}
					if !sf.IsExported() && et.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validTag(name) {
					name = ""
				}
				index := append(slices.Clip(f.index), i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					c := candidate{name: name, tagged: name != "", index: index, typ: ft,
						quoted: hasOption(opts, "string") && quotable(ft.Kind())}
					if c.name == "" {
						c.name = sf.Name
					}
					fields = append(fields, c)
					if count[f.typ] > 1 {
						fields = append(fields, c) // annihilated below
					}
					continue
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, candidate{index: index, typ: ft})
				}
			}
		}
	}
	slices.SortStableFunc(fields, func(a, b candidate) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := len(a.index) - len(b.index); c != 0 {
			return c
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return 1
		}
		return slices.Compare(a.index, b.index)
	})
	var out []candidate
	for i := 0; i < len(fields); {
		j := i + 1
		for j < len(fields) && fields[j].name == fields[i].name {
			j++
		}
		if j == i+1 || len(fields[i].index) != len(fields[i+1].index) || fields[i].tagged != fields[i+1].tagged {
			out = append(out, fields[i])
		}
		i = j
	}
	slices.SortFunc(out, func(a, b candidate) int { return slices.Compare(a.index, b.index) })
	p.exact = make(map[string]*field, len(out))
	p.folded = make(map[string]*field, len(out))
	for _, c := range out {
		fd := &field{path: len(c.index), quoted: c.quoted}
		ft := t
		for k, i := range c.index {
			if ft.Kind() == reflect.Pointer {
				if k > 0 {
					fd.alloc += alloc(int64(ft.Elem().Size()), hasPointers(ft.Elem()))
				}
				ft = ft.Elem()
			}
			sf := ft.Field(i)
			if k < len(c.index)-1 && sf.Type.Kind() == reflect.Pointer && !sf.IsExported() {
				// encoding/json cannot set it: an error is made and the
				// value skipped.
				fd.alloc += errorfCost
			}
			ft = sf.Type
		}
		fd.plan = b.build(ft)
		p.exact[c.name] = fd
		k := string(appendFold(nil, []byte(c.name)))
		if p.folded[k] == nil {
			p.folded[k] = fd
		}
		p.maxFold = max(p.maxFold, len(k))
	}
}

// quotable reports whether the ",string" option applies to a field of
// kind k.
func quotable(k reflect.Kind) bool {
	switch k {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.String:
		return true
	}
	return false
}

func hasOption(opts, name string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == name {
			return true
		}
	}
	return false
}

// validTag reports whether encoding/json accepts s as a field name.
func validTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c) && !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			return false
		}
	}
	return true
}

// foldRune returns the smallest rune of r's fold set.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}
