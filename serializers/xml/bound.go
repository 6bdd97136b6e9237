package xml

import (
	"reflect"

	"github.com/netmessage-go/netmessage/serializers/internal/check"
	"github.com/netmessage-go/netmessage/serializers/internal/xmldepth"
)

// ErrDecodeLimit is matched (with errors.Is) by the error of Unmarshal when
// it refuses, before decoding anything, input whose decoding could
// allocate more than [Serializer.DecodeBound] allows.
var ErrDecodeLimit = check.ErrDecodeLimit

// Decoding costs: perByte per input byte, which ordinary documents need
// (encoding/xml allocates 20 bytes per input byte for a slice of small
// structs: about 250 bytes per element whatever it holds); fixedHeap of
// heap (the decoder, its first buffers, the scan's state, errors); and
// maxStack, the goroutine stack the decoder needs at maxDepth (measured
// by TestStackAtMaxDepth).
const (
	perByte   = 32
	fixedHeap = 8 << 10
	maxStack  = 64 << 10
)

// opaqueCost is charged, besides four times its size, for each element
// decoded by a type's own UnmarshalXML or UnmarshalText (time.Time
// allocates a zone for an offset), which cannot be predicted.
const opaqueCost = 512

// DecodeBound reports that Unmarshal(data, v) allocates at most
// perByte*len(data) + fixed bytes, heap and decoder stack together, for
// any input: it refuses input that could cost more with [ErrDecodeLimit].
func (Serializer) DecodeBound() (perByte, fixed int) {
	return perByteLimit, fixedHeap + maxStack
}

const perByteLimit = perByte // DecodeBound's result shadows the constant's name

// checkCost checks the nesting of data, as checkDepth does, and refuses
// it with ErrDecodeLimit if decoding it into a value of type t (through
// one pointer if ptr) could allocate more than the bound.
func checkCost(data []byte, t reflect.Type, ptr bool) error {
	cost, err := estimate(data, t, ptr)
	if err != nil {
		return err
	}
	if cost > check.LimitPer(len(data), perByte, fixedHeap) {
		return check.OverLimitPer(len(data), perByte, cost, fixedHeap)
	}
	return nil
}

// estimate returns an upper bound on what encoding/xml allocates to
// decode data into a value of type t (allocated through a pointer if
// ptr), apart from fixedHeap, or the error of checkDepth. It lexes the
// document once: each token costs what Decoder.Token allocates for it
// (see xmldepth.TokenCost), and each element what decoding it into its
// field adds: text copied into strings and numbers, slices grown one
// element at a time, pointers allocated, attributes copied.
func estimate(data []byte, t reflect.Type, ptr bool) (int64, error) {
	e := estimator{root: field{plan: planFor(t), slice: -1}}
	if ptr {
		e.root.alloc = check.Alloc(int64(t.Size()))
	}
	lx := xmldepth.NewLexer(data, maxDepth)
	for {
		t, err := lx.Next()
		if err != nil {
			return 0, err
		}
		if t == nil {
			break
		}
		e.token(t)
	}
	for e.depth > 0 {
		e.pop(len(data)) // a truncated document: what was appended stays allocated
	}
	return e.cost + xmldepth.BufferCost(int64(lx.Longest), e.attrs) + xmldepth.SyntaxErrorCost(int64(lx.LongestName)) + e.errorCost, nil
}

// An estimator follows the elements of a document through the plans of
// what they decode into. It lives on the stack: its open elements are at
// most maxDepth, unless the document has an end tag without a start,
// where encoding/xml fails.
type estimator struct {
	cost      int64
	attrs     int64
	errorCost int64 // the most the error of one value can cost
	root      field
	started   bool
	depth     int
	frames    [maxDepth + 1]frame
	ncounts   int
	counts    [64]int64 // the elements of each slice field of the open structs
}

// A frame is an open element.
type frame struct {
	p      *plan
	owner  int   // structs and paths: the struct frame whose slices count children
	base   int   // structs: where its slice counts start in counts; -1 if not kept
	off    int   // the offset of its start tag
	text   int64 // text collected, and in how many pieces
	pieces int64
	notes  int64 // structs with a comment field: comments collected
	nnotes int64
}

var skipField = &field{plan: skipPlan, slice: -1}

func (e *estimator) token(t *xmldepth.Token) {
	e.cost += xmldepth.TokenCost(t)
	var top *frame
	if e.depth > 0 {
		top = &e.frames[e.depth-1]
	}
	switch t.Kind {
	case xmldepth.Start:
		e.attrs += int64(t.Attrs)
		e.push(t, top)
	case xmldepth.End:
		if top != nil {
			e.pop(t.Off + t.Len)
		}
	case xmldepth.Text:
		if top != nil && (top.p.kind == textKind || top.p.kind == opaqueKind || top.p.chardata) {
			top.text += int64(t.Len)
			top.pieces++
		}
	case xmldepth.Comment:
		if top != nil && top.p.comment {
			top.notes += int64(t.Len)
			top.nnotes++
		}
	}
}

func (e *estimator) push(t *xmldepth.Token, parent *frame) {
	fd, owner := skipField, -1
	switch {
	case parent == nil && !e.started:
		fd, e.started = &e.root, true
	case parent != nil && (parent.p.kind == structKind || parent.p.kind == pathKind):
		owner = parent.owner
		if fd = parent.p.children[string(t.Local)]; fd == nil {
			fd = parent.p.any
		}
		if fd == nil {
			fd = skipField
		}
	}
	e.cost += fd.alloc
	if fd.slice >= 0 && owner >= 0 {
		if base := e.frames[owner].base; base >= 0 {
			e.counts[base+fd.slice]++
		} else {
			// Not counted: what one element can add to the growth of a
			// slice, a size-class rounding or a page per step included.
			e.cost += 7*fd.plan.size + 8192 + 16
		}
	}
	if e.depth == len(e.frames) {
		return // past an unmatched end tag, where encoding/xml fails
	}
	f := frame{p: fd.plan, owner: owner, base: e.ncounts, off: t.Off}
	if p := fd.plan; p.kind == structKind {
		f.owner = e.depth
		e.cost += p.embedded
		if p.xmlName {
			e.cost += 32 // the Name, boxed to be set
		}
		if p.attrs {
			// Each attribute is copied into its field (as []byte, then a
			// string), or appended to an ",any,attr" []Attr, boxed.
			n := int64(t.Attrs)
			e.cost += check.AppendGrowth(n, 48) + 2*xmldepth.AllocMany(int64(t.AttrBytes), 2*n) + 256*n
		}
		if e.ncounts+len(p.slices) <= len(e.counts) {
			clear(e.counts[e.ncounts : e.ncounts+len(p.slices)])
			e.ncounts += len(p.slices)
		} else {
			f.base = -1
		}
	}
	e.frames[e.depth] = f
	e.depth++
}

// pop closes the innermost open element, which ends at offset end.
func (e *estimator) pop(end int) {
	f := &e.frames[e.depth-1]
	text := xmldepth.AppendCost(f.text, f.pieces) + check.Alloc(f.text)
	if f.p.parsed || f.p.kind == opaqueKind {
		// Decoding stops at the first error, which may quote the text
		// (strconv's: up to four bytes per byte, as Go syntax); its
		// message is built once more to be shortened. Building a text
		// grows a buffer to twice its size at most, then copies it.
		n := 4*f.text + 128
		e.errorCost = max(e.errorCost, check.Alloc(f.text)+3*(3*check.Alloc(2*n)))
	}
	switch p := f.p; p.kind {
	case textKind:
		e.cost += text
	case opaqueKind:
		e.cost += text + 4*int64(end-f.off) + opaqueCost
	case structKind:
		if p.chardata {
			e.cost += text
		}
		if p.comment {
			e.cost += xmldepth.AppendCost(f.notes, f.nnotes) + check.Alloc(f.notes)
		}
		if p.innerXML {
			n := int64(end - f.off)
			e.cost += 2*check.Alloc(2*n) + check.Alloc(n) + 128 // the saved input, then a copy
		}
		if f.base >= 0 {
			for i, size := range p.slices {
				e.cost += check.AppendGrowth(e.counts[f.base+i], size)
			}
			e.ncounts = f.base
		}
	}
	e.depth--
}
