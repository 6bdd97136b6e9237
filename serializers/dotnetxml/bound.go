package dotnetxml

import (
	"github.com/netmessage-go/netmessage/serializers/internal/check"
	"github.com/netmessage-go/netmessage/serializers/internal/xmldepth"
)

// ErrDecodeLimit is matched (with errors.Is) by the error of Unmarshal when
// it refuses, before decoding anything, input whose decoding could
// allocate more than [Serializer.DecodeBound] allows.
var ErrDecodeLimit = check.ErrDecodeLimit

// Decoding costs: perByte per input byte, which ordinary documents need
// (encoding/xml's tokenizer allocates about 200 bytes per element, so a
// list of small objects costs 14 to 17 bytes per input byte); fixedHeap
// of heap (the tokenizer, its first buffers, errors); and maxStack, the
// goroutine stack the decoder needs at maxReadDepth (measured by
// TestStackAtMaxDepth).
const (
	perByte   = 32
	fixedHeap = 8 << 10
	maxStack  = 32 << 10
)

// DecodeBound reports that Unmarshal(data, v) allocates at most
// perByte*len(data) + fixed bytes, heap and decoder stack together, for
// any input: it refuses input that could cost more with [ErrDecodeLimit].
func (Serializer) DecodeBound() (perByte, fixed int) {
	return perByteLimit, fixedHeap + maxStack
}

const perByteLimit = perByte // DecodeBound's result shadows the constant's name

// parseCost says what a text plan's parse allocates.
type parseCost uint8

const (
	stringCost parseCost = iota // nothing: the text becomes the string
	numberCost                  // nothing, but an error quotes the text
	base64Cost                  // the text without spaces, then the bytes
	guidCost                    // copies of the text, and of its digits
	timeCost                    // a zone for an offset, and the boxed time
	opaqueCost                  // UnmarshalText: a copy of the text, then unknown
)

// Besides copies of the text: a Location with one zone for a time with
// an offset, and a boxed time.Time; a guess for what an UnmarshalText
// allocates beyond four times its text, which cannot be predicted.
const (
	timeExtra   = 256
	opaqueExtra = 512
)

// checkCost checks the nesting of data, as xmldepth.Check does, and
// refuses it with ErrDecodeLimit if decoding it into root could allocate
// more than the bound.
func checkCost(data []byte, root *plan) error {
	cost, err := estimate(data, root)
	if err != nil {
		return err
	}
	if cost > check.LimitPer(len(data), perByte, fixedHeap) {
		return check.OverLimitPer(len(data), perByte, cost, fixedHeap)
	}
	return nil
}

// estimate returns an upper bound on what decoding data into a value of
// plan root allocates, apart from fixedHeap, or the error of
// xmldepth.Check. It lexes the document once: each token costs what
// encoding/xml's Decoder.Token allocates for it (see xmldepth.TokenCost),
// and each element what the decoder adds: its text collected and parsed,
// a slice grown by one item (reflect.New, then reflect.Append with a new
// slice header), a pointer allocated.
func estimate(data []byte, root *plan) (int64, error) {
	e := estimator{root: root}
	lx := xmldepth.NewLexer(data, maxReadDepth)
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
		e.pop() // a truncated document: what was appended stays allocated
	}
	return e.cost + xmldepth.BufferCost(int64(lx.Longest), e.attrs) + xmldepth.SyntaxErrorCost(int64(lx.LongestName)) + e.errCost, nil
}

// An estimator follows the elements of a document through the plans of
// what they decode into. It lives on the stack: its open elements are at
// most maxReadDepth, unless the document has an end tag without a start,
// where encoding/xml fails.
type estimator struct {
	cost    int64
	attrs   int64
	errCost int64 // the most the error of one value can cost
	root    *plan
	started bool
	depth   int
	frames  [maxReadDepth + 1]frame
}

// A frame is an open element: p is what it decodes into (skipped if nil),
// text and pieces the text it collects, items the items of a list; name
// is the length of its name, and prefix the length of the prefixes that
// the decoder's errors put before an error inside it ("Field: item 3: ").
type frame struct {
	p      *plan
	text   int64
	pieces int64
	items  int64
	name   int64
	prefix int64
}

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
			e.pop()
		}
	case xmldepth.Text:
		if top != nil && top.p != nil && top.p.kind == textKind {
			top.text += int64(t.Len)
			top.pieces++
		}
	}
}

func (e *estimator) push(t *xmldepth.Token, parent *frame) {
	var p *plan
	var prefix int64
	switch {
	case parent == nil && !e.started:
		p, e.started = e.root, true
	case parent == nil || parent.p == nil:
	case parent.p.kind == structKind:
		if i, ok := parent.p.byName[string(t.Local)]; ok {
			p = parent.p.fields[i].plan
			prefix = parent.prefix + int64(len(parent.p.fields[i].name)) + 2
		}
	case parent.p.kind == sliceKind:
		if string(t.Local) == parent.p.elem.name {
			p = parent.p.elem
			prefix = parent.prefix + int64(len("item 9223372036854775807: "))
			parent.items++
			e.cost += check.Alloc(int64(p.typ.Size())) + 24 // reflect.New, reflect.Append's header
		}
	}
	for p != nil && p.kind == pointerKind {
		e.cost += check.Alloc(int64(p.elem.typ.Size()))
		p = p.elem
	}
	if p != nil && p.kind == sliceKind {
		e.cost += 32 // reflect.MakeSlice's header
	}
	if e.depth < len(e.frames) {
		e.frames[e.depth] = frame{p: p, name: int64(len(t.Local)), prefix: prefix}
		e.depth++
	}
}

// pop closes the innermost open element.
func (e *estimator) pop() {
	f := &e.frames[e.depth-1]
	e.depth--
	if f.p == nil {
		return
	}
	switch f.p.kind {
	case textKind:
		n := f.text
		e.cost += xmldepth.AppendCost(n, f.pieces) // strings.Builder
		switch f.p.cost {
		case numberCost:
			e.cost += check.Alloc(n) // strconv's NumError copies the text
		case base64Cost:
			e.cost += 2 * check.Alloc(n)
		case guidCost:
			e.cost += 3*check.Alloc(n) + 128
		case timeCost:
			e.cost += timeExtra
		case opaqueCost:
			e.cost += 5*check.Alloc(n) + opaqueExtra
		}
		if f.p.cost != stringCost {
			e.errCost = max(e.errCost, e.errorCost(f, n, f.name))
		}
	case sliceKind:
		e.cost += check.AppendGrowth(f.items, int64(f.p.elem.typ.Size()))
	}
}

// errorCost returns an upper bound on what the error for the value of n
// bytes in the innermost open element (named name bytes) allocates: its
// text may quote the value (fmt's %q: up to four bytes per byte; a
// dateTime's error quotes it three times), and each struct or list above
// wraps it with a prefix, copying it into a new string and a wrapping
// error. fmt's pooled buffer grows to twice the longest text, once, or at
// each level for texts over 64 KiB, which it does not keep.
func (e *estimator) errorCost(f *frame, n, name int64) int64 {
	inner := 4*n + 128
	if f.p.cost == timeCost {
		inner = 12*n + 256
	}
	inner += name + 4 + check.Alloc(n) // "<name>: ", and a copy of the text in strconv's or time's error
	var c, longest int64
	for j := e.depth - 1; j >= 0; j-- {
		text := inner + f.prefix - e.frames[j].prefix
		c += check.Alloc(text) + 48 // the string, the wrapping error and a boxed argument
		if text > 32<<10 {
			c += 2 * check.Alloc(2*text)
		}
		longest = max(longest, text)
	}
	return c + 2*check.Alloc(2*longest) + check.Alloc(inner)
}
