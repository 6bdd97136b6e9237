// Package check decides, with reflection, whether a wire format can carry a
// Go type or value, so that the serializers can fail with a precise message
// instead of the underlying library's vague one (or, worse, silently
// corrupting data).
//
// A [Policy] describes one format. Verdicts for types are computed once per
// reflect.Type and cached; values are only walked when their type says it is
// necessary (strings that need content checks, or types that can form
// cycles).
package check

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// Policy describes which Go types and values a format can carry.
// A Policy must not be copied after first use.
type Policy struct {
	// Tag is the struct tag key the format reads; fields tagged "-" are
	// skipped, as are unexported fields that are not embedded.
	Tag string
	// Opaque reports whether t encodes itself (a Marshaler, TextMarshaler,
	// ...). Opaque types are neither inspected nor walked.
	Opaque func(t reflect.Type) bool
	// Kind, if set, returns why the format cannot carry t itself (its own
	// kind, not its elements), or "" if it can.
	Kind func(t reflect.Type) string
	// Value, if set, returns why a string or slice value cannot be carried,
	// or "". It is called for every reachable string and non-nil slice.
	Value func(v reflect.Value) string

	verdicts sync.Map // reflect.Type -> *verdict
	fields   sync.Map // reflect.Type -> []field (only fields worth walking)
}

// Unsupported describes a type or value that a format cannot carry.
type Unsupported struct {
	Path   string       // where, relative to the checked root: "Items[2].Name"; "" for the root
	Type   reflect.Type // the offending Go type
	Reason string
}

// Error describes the field path, the type and the reason. The root type
// is left to the caller's message.
func (e *Unsupported) Error() string {
	if e.Path == "" {
		return e.Reason // the caller's message already names the root type
	}
	return fmt.Sprintf("field %s (%s): %s", e.Path, e.Type, e.Reason)
}

// within returns a copy of e located under the path segment seg.
func (e *Unsupported) within(seg string) *Unsupported {
	if e == nil {
		return nil
	}
	c := *e
	switch {
	case c.Path == "":
		c.Path = seg
	case strings.HasPrefix(c.Path, "["):
		c.Path = seg + c.Path
	default:
		c.Path = seg + "." + c.Path
	}
	return &c
}

type verdict struct {
	err  *Unsupported // why the type graph rooted here cannot be carried
	walk bool         // values need walking (content checks or possible cycles)
}

type field struct {
	index int
	name  string
}

// Type returns an error if the format cannot carry every type reachable
// from t (through struct fields, elements, pointers and map keys/values).
// Interface types are accepted here; their dynamic values are checked by
// [Policy.Check].
func (p *Policy) Type(t reflect.Type) error {
	if vd := p.verdict(t); vd.err != nil {
		return vd.err
	}
	return nil
}

// Trusted reports whether [Policy.Check] accepts every value of type t
// without looking at it: the type is supported, and its values need no
// walk.
func (p *Policy) Trusted(t reflect.Type) bool {
	vd := p.verdict(t)
	return vd.err == nil && !vd.walk
}

// Check returns an error if the format cannot carry v: either its type is
// unsupported or one of its values is (as judged by Policy.Value), or it
// contains a reference cycle.
func (p *Policy) Check(v reflect.Value) error {
	if !v.IsValid() {
		return nil
	}
	vd := p.verdict(v.Type())
	if vd.err != nil {
		return vd.err
	}
	if !vd.walk {
		return nil
	}
	w := walker{p: p}
	if err := w.walk(v); err != nil {
		return err
	}
	return nil
}

func (p *Policy) verdict(t reflect.Type) *verdict {
	if vd, ok := p.verdicts.Load(t); ok {
		return vd.(*verdict)
	}
	s := scan{p: p, state: make(map[reflect.Type]bool)}
	err := s.visit(t)
	vd := &verdict{err: err, walk: s.cyclic || (s.content && p.Value != nil)}
	actual, _ := p.verdicts.LoadOrStore(t, vd)
	return actual.(*verdict)
}

func (p *Policy) kind(t reflect.Type) string {
	if p.Kind == nil {
		return ""
	}
	return p.Kind(t)
}

// structFields lists t's fields the format sees, honoring tags.
func (p *Policy) structFields(t reflect.Type) []reflect.StructField {
	var fs []reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		if (!f.IsExported() && !f.Anonymous) || f.Tag.Get(p.Tag) == "-" {
			continue
		}
		fs = append(fs, f)
	}
	return fs
}

// walkFields lists the fields of struct type t whose values need walking.
func (p *Policy) walkFields(t reflect.Type) []field {
	if fs, ok := p.fields.Load(t); ok {
		return fs.([]field)
	}
	var fs []field
	for _, f := range p.structFields(t) {
		if p.verdict(f.Type).walk {
			fs = append(fs, field{index: f.Index[0], name: f.Name})
		}
	}
	actual, _ := p.fields.LoadOrStore(t, fs)
	return actual.([]field)
}

// scan is a depth-first search over a type graph.
type scan struct {
	p       *Policy
	state   map[reflect.Type]bool // false: in progress, true: done
	cyclic  bool                  // a type refers back to itself, or dynamic (interface) values exist
	content bool                  // strings or slices are reachable
}

func (s *scan) visit(t reflect.Type) *Unsupported {
	if done, seen := s.state[t]; seen {
		s.cyclic = s.cyclic || !done
		return nil
	}
	s.state[t] = false
	defer func() { s.state[t] = true }()
	if s.p.Opaque != nil && s.p.Opaque(t) {
		return nil
	}
	if reason := s.p.kind(t); reason != "" {
		return &Unsupported{Type: t, Reason: reason}
	}
	switch t.Kind() {
	case reflect.String:
		s.content = true
	case reflect.Interface:
		s.cyclic = true // the dynamic value must be checked
	case reflect.Pointer:
		return s.visit(t.Elem())
	case reflect.Slice:
		s.content = true
		return s.visit(t.Elem()).within("[]")
	case reflect.Array:
		return s.visit(t.Elem()).within("[]")
	case reflect.Map:
		if err := s.visit(t.Key()); err != nil {
			return err.within("[key]")
		}
		return s.visit(t.Elem()).within("[]")
	case reflect.Struct:
		for _, f := range s.p.structFields(t) {
			if err := s.visit(f.Type); err != nil {
				return err.within(f.Name)
			}
		}
	}
	return nil
}

// cycleDepth is the nesting depth after which the walker starts tracking
// references to detect cycles (cheap for ordinary values).
const cycleDepth = 64

type ref struct {
	ptr unsafe.Pointer
	typ reflect.Type
	n   int
}

type walker struct {
	p     *Policy
	depth int
	seen  map[ref]struct{}
}

// enter records a reference on the current path; it reports a cycle.
func (w *walker) enter(v reflect.Value) (ref, *Unsupported) {
	w.depth++
	if w.depth <= cycleDepth {
		return ref{}, nil
	}
	r := ref{ptr: v.UnsafePointer(), typ: v.Type()}
	if v.Kind() == reflect.Slice {
		r.n = v.Len()
	}
	if _, ok := w.seen[r]; ok {
		return ref{}, &Unsupported{Type: v.Type(), Reason: "value contains a reference cycle"}
	}
	if w.seen == nil {
		w.seen = make(map[ref]struct{})
	}
	w.seen[r] = struct{}{}
	return r, nil
}

func (w *walker) leave(r ref) {
	w.depth--
	if r.ptr != nil {
		delete(w.seen, r)
	}
}

// walk checks v, whose type is known to be supported and worth walking.
func (w *walker) walk(v reflect.Value) *Unsupported {
	switch v.Kind() {
	case reflect.String:
		return w.value(v)
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		r, err := w.enter(v)
		if err != nil {
			return err
		}
		defer w.leave(r)
		return w.walk(v.Elem())
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		e := v.Elem()
		vd := w.p.verdict(e.Type())
		if vd.err != nil || !vd.walk {
			return vd.err
		}
		return w.walk(e)
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		if err := w.value(v); err != nil {
			return err
		}
		if v.Len() == 0 || !w.p.verdict(v.Type().Elem()).walk {
			return nil
		}
		r, err := w.enter(v)
		if err != nil {
			return err
		}
		defer w.leave(r)
		return w.elems(v)
	case reflect.Array:
		if !w.p.verdict(v.Type().Elem()).walk {
			return nil
		}
		return w.elems(v)
	case reflect.Map:
		t := v.Type()
		if v.IsNil() || (!w.p.verdict(t.Key()).walk && !w.p.verdict(t.Elem()).walk) {
			return nil
		}
		r, err := w.enter(v)
		if err != nil {
			return err
		}
		defer w.leave(r)
		for it := v.MapRange(); it.Next(); {
			k := it.Key()
			if err := w.walk(k); err != nil {
				return err.within("[key]")
			}
			if err := w.walk(it.Value()); err != nil {
				return err.within("[" + keyString(k) + "]")
			}
		}
	case reflect.Struct:
		for _, f := range w.p.walkFields(v.Type()) {
			if err := w.walk(v.Field(f.index)); err != nil {
				return err.within(f.name)
			}
		}
	}
	return nil
}

func (w *walker) elems(v reflect.Value) *Unsupported {
	for i := range v.Len() {
		if err := w.walk(v.Index(i)); err != nil {
			return err.within("[" + strconv.Itoa(i) + "]")
		}
	}
	return nil
}

func (w *walker) value(v reflect.Value) *Unsupported {
	if w.p.Value == nil {
		return nil
	}
	if reason := w.p.Value(v); reason != "" {
		return &Unsupported{Type: v.Type(), Reason: reason}
	}
	return nil
}

func keyString(k reflect.Value) string {
	if k.Kind() == reflect.String {
		return strconv.Quote(k.String())
	}
	if k.CanInterface() {
		return fmt.Sprint(k.Interface())
	}
	return k.Type().String()
}

// Implements reports whether t or *t implements any of ifaces.
func Implements(t reflect.Type, ifaces ...reflect.Type) bool {
	pt := reflect.PointerTo(t)
	for _, i := range ifaces {
		if t.Implements(i) || pt.Implements(i) {
			return true
		}
	}
	return false
}
