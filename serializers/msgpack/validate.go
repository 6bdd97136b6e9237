package msgpack

import (
	"fmt"
	"io"

	"github.com/netmessage-go/netmessage/serializers/internal/check"
)

// maxDepth bounds container nesting, and with it the decoder's stack:
// vmihailenco/msgpack recurses for each level, using up to about 500
// bytes of stack per level.
const maxDepth = 64

// A frame is an open container during scan: what its remaining values
// are decoded into.
type frame struct {
	left    int64 // values still expected
	key     *plan // maps: the plan of keys
	elem    *plan // arrays: of elements; maps: of values
	st      *plan // structs, read from a map (by key) or an array (in field order)
	next    *plan // structs read from a map: the plan of the value after a key
	i       int   // values read so far
	hint    int   // structs read from a map: st.order's index of the likely next key
	byIndex bool  // st is read as an array
}

// scan checks, without decoding, that data holds exactly one MessagePack
// value whose declared lengths fit in the input and whose nesting is at
// most maxDepth, and returns an upper bound on what decoding it into a
// value of plan root allocates (see plan). vmihailenco/msgpack v5.4.1
// sizes slices and maps from the declared length before reading the
// elements, so an unchecked 5-byte array header can request gigabytes.
// With generated set, data is decoded by the root type's generated
// UnmarshalMsg: integers that land in interfaces are charged as boxed.
//
// It descends into containers by recursion, at most maxDepth calls deep
// (a few hundred bytes of stack each, less than the decoder needs at the
// same depth), and allocates nothing.
func scan(data []byte, root *plan, generated bool) (int64, error) {
	s := scanner{data: data, pending: 1, generated: generated}
	if err := s.value(root, 0); err != nil {
		return 0, err
	}
	if s.pos != len(data) {
		return 0, fmt.Errorf("%d bytes of trailing data after the value", len(data)-s.pos)
	}
	return s.cost, nil
}

// checkInput refuses data unless it holds one value whose declared
// lengths fit, nested at most maxDepth deep, whose decoding into a value of
// plan p could not allocate more than the limit. When p's rate says the
// estimate cannot reach the limit for input of this size, only the framing
// is checked (scan into skipPlan, which charges nothing).
func checkInput(data []byte, p *plan, generated bool) error {
	if framingSuffices(p, len(data)) {
		return checkFraming(data)
	}
	cost, err := scan(data, p, generated)
	if err == nil && cost > check.Limit(len(data), fixedHeap) {
		err = check.OverLimit(len(data), cost, fixedHeap)
	}
	return err
}

// checkFraming is scan(data, skipPlan, false) without the estimate (which
// is zero for skipPlan), as one loop over a stack of value counts rather
// than a recursion through the plans, reading each format byte's framing
// from a table: the same verdicts and errors, at a third of the cost.
// Input nesting deeper than its stack has room for is scanned instead.
func checkFraming(data []byte) error {
	var room [16]int64
	open := room[:0]    // values still expected by the enclosing containers
	left := int64(1)    // values still expected at the innermost level
	pending := int64(1) // all values expected, at every level
	pos := 0
	for {
		if left == 0 {
			if len(open) == 0 {
				break
			}
			left = open[len(open)-1]
			open = open[:len(open)-1]
			continue
		}
		left--
		pending--
		if pos >= len(data) {
			return io.ErrUnexpectedEOF
		}
		start := pos
		c := data[pos]
		pos++
		var skip, children int64
		switch f := framings[c]; f.op {
		case fScalar:
			skip = int64(f.n)
		case fFixContainer:
			children = int64(f.n)
		case fLength, fContainer:
			at := pos // a copy: pos itself is kept out of memory
			n, err := length(data, &at, int(f.n))
			if err != nil {
				return badValue(start, err)
			}
			pos = at
			if f.op == fLength {
				skip = n + int64(f.extra)
			} else {
				children = n * int64(f.extra)
			}
		default:
			at := pos
			_, _, err := header(data, &at, c) // its error for the byte
			return badValue(start, err)
		}
		remaining := int64(len(data) - pos)
		if skip > remaining {
			return shortValue(c, start, skip, remaining)
		}
		pos += int(skip)
		if children > 0 {
			pending += children
			if pending > remaining {
				return shortContainer(c, start, children, remaining)
			}
			if len(open) == cap(open) {
				_, err := scan(data, skipPlan, false)
				return err
			}
			open = append(open, left)
			left = children
		}
	}
	if pos != len(data) {
		return fmt.Errorf("%d bytes of trailing data after the value", len(data)-pos)
	}
	return nil
}

// A framing is what a format byte says of the bytes and values after it.
type framing struct {
	op uint8
	// n: fScalar, the bytes to skip; fFixContainer, the values that
	// follow; fLength and fContainer, the size of the big-endian length.
	n uint8
	// extra: fLength, bytes to skip beyond the length (an extension's
	// type); fContainer, values per unit of the length (2 for maps).
	extra uint8
}

// The operations of a framing.
const (
	fInvalid      = iota // no MessagePack value starts with the byte
	fScalar              // n bytes follow
	fFixContainer        // n values follow
	fLength              // a length, then that many bytes plus extra
	fContainer           // a length, then extra values per unit of it
)

// framings holds the framing of every format byte, as header decodes it.
var framings = func() (t [256]framing) {
	for i := range t {
		c := byte(i)
		pos := 1
		var probe [5]byte
		probe[0] = c
		skip, children, err := header(probe[:], &pos, c)
		switch size := uint8(pos - 1); {
		case err != nil:
			t[i] = framing{op: fInvalid}
		case size == 0 && children == 0:
			t[i] = framing{op: fScalar, n: uint8(skip)}
		case size == 0:
			t[i] = framing{op: fFixContainer, n: uint8(children)}
		case wkinds[c] == wMap:
			t[i] = framing{op: fContainer, n: size, extra: 2}
		case wkinds[c] == wArray:
			t[i] = framing{op: fContainer, n: size, extra: 1}
		default: // string, binary or extension: the length read as zero
			t[i] = framing{op: fLength, n: size, extra: uint8(skip)}
		}
	}
	return t
}()

// scanner is the state of one scan.
type scanner struct {
	data      []byte
	pos       int   // of the next value
	pending   int64 // values declared and not read yet, at all depths
	cost      int64 // the estimate so far
	generated bool
	// The last value read: its format byte, and where its string, binary
	// or extension bytes start and how many there are (for map keys).
	c    byte
	body int
	skip int64
}

// value reads one value, decoded into p, depth containers deep, and what
// it contains. Its frame is kept small (errors are made by functions of
// their own), as it is on the stack once per level of nesting.
func (s *scanner) value(p *plan, depth int) error {
	s.pending--
	data := s.data
	if s.pos >= len(data) {
		return io.ErrUnexpectedEOF
	}
	start := s.pos
	c := data[start]
	s.pos++
	skip, children, err := quickHeader(data, &s.pos, c)
	if err != nil {
		return badValue(start, err)
	}
	remaining := int64(len(data) - s.pos)
	if skip > remaining {
		return shortValue(c, start, skip, remaining)
	}
	s.c, s.body, s.skip = c, s.pos, skip
	s.pos += int(skip)
	for p.kind == ptrKind && c != 0xc0 {
		s.cost += check.AllocOf(p.elem.size, true)
		p = p.elem
	}
	if p.kind == mapKind && kindOf(c) == wExtension {
		// The library would read a map header inside the extension.
		return extensionForMap(start)
	}
	if p.kind >= anyKind && p.kind <= mapKind { // the kinds valueCost charges
		s.cost += valueCost(p, c, skip, children, s.generated)
		if p.kind == opaqueKind {
			s.cost += 2 * int64(s.pos-start)
		}
	}
	if children == 0 {
		return nil
	}
	s.pending += children
	if s.pending > remaining {
		return shortContainer(c, start, children, remaining)
	}
	if depth >= maxDepth {
		return check.TooDeep("containers", maxDepth, start)
	}
	return s.contents(p, c, children, depth+1)
}

// badValue is the error for the value at offset start whose header is
// invalid.
//
//go:noinline
func badValue(start int, err error) error {
	return fmt.Errorf("value at offset %d: %w", start, err)
}

// shortValue is the error for a string, binary or extension that
// declares more bytes than remain.
//
//go:noinline
func shortValue(c byte, start int, skip, remaining int64) error {
	return fmt.Errorf("%w: %s at offset %d declares %d bytes, only %d remain",
		io.ErrUnexpectedEOF, kindName(c), start, skip, remaining)
}

// shortContainer is the error for a container that declares more values
// than the remaining bytes can hold.
//
//go:noinline
func shortContainer(c byte, start int, children, remaining int64) error {
	n, unit := children, "elements"
	if kindOf(c) == wMap {
		n, unit = children/2, "entries"
	}
	return fmt.Errorf("%w: %s at offset %d declares %d %s, only %d bytes remain",
		io.ErrUnexpectedEOF, kindName(c), start, n, unit, remaining)
}

// extensionForMap is the error for an extension where a map is expected.
//
//go:noinline
func extensionForMap(start int) error {
	return fmt.Errorf("extension at offset %d where a map is expected", start)
}

// contents reads the n values inside the container whose format byte is
// c (keys and values alternating in a map), decoded into p.
func (s *scanner) contents(p *plan, c byte, n int64, depth int) error {
	isMap := kindOf(c) == wMap
	key, elem := skipPlan, skipPlan
	switch p.kind {
	case anyKind:
		if isMap {
			key = keyPlan
		}
		elem = anyPlan
	case opaqueKind:
		key, elem = p, p
	case sliceKind, arrayKind:
		if !isMap {
			elem = p.elem
		}
	case mapKind:
		if isMap {
			key, elem = p.key, p.elem
		}
	case structKind:
		switch {
		case isMap:
			return s.fields(p, n/2, depth)
		case n == int64(len(p.list)): // otherwise the library fails
			for _, fd := range p.list {
				if err := s.value(fd.plan, depth); err != nil {
					return err
				}
			}
			return nil
		}
	}
	if !isMap {
		key = elem
	}
	for range n / 2 {
		if err := s.value(key, depth); err != nil {
			return err
		}
		if err := s.value(elem, depth); err != nil {
			return err
		}
	}
	if n%2 == 1 {
		return s.value(elem, depth)
	}
	return nil
}

// fields reads the entries of a map decoded into the struct of plan st:
// each key names the field its value is decoded into; a value for no field
// is skipped.
func (s *scanner) fields(st *plan, entries int64, depth int) error {
	hint := 0 // st.order's index of the likely next key
	for range entries {
		if err := s.value(keyPlan, depth); err != nil {
			return err
		}
		next := skipPlan
		if isString(s.c) {
			// Encoders write fields in order: try the next one's name
			// before looking the key up.
			key := s.data[s.body : s.body+int(s.skip)]
			var fd *field
			if hint < len(st.order) && st.order[hint].name == string(key) {
				fd = st.order[hint].fd
				hint++
			} else {
				fd = st.fields[string(key)]
			}
			if fd != nil {
				next = fd.plan
				s.cost += fd.alloc
			}
		}
		if err := s.value(next, depth); err != nil {
			return err
		}
	}
	return nil
}

// valueCost is what the library allocates for the value whose format
// byte is c, decoded into p (not a pointer), apart from what is inside it:
// skip is the length of a string, binary or extension, n the number of
// values in an array, or keys and values in a map. With generated set, the
// value is decoded by generated code (tinylib/msgp's ReadIntfBytes for
// interfaces), which boxes every integer as an int64 or uint64: a
// negative one allocates.
func valueCost(p *plan, c byte, skip, n int64, generated bool) int64 {
	kind := kindOf(c)
	switch p.kind {
	case anyKind, opaqueKind:
		switch {
		case kind == wMap:
			return check.MapCost(n/2, 16, 8, 16, 8, true)
		case kind == wArray:
			return check.Alloc(24) + check.AllocOf(16*n, true)
		case kind == wString:
			return 16 + stringCost(skip, true)
		case kind == wBinary:
			return check.Alloc(24) + check.Alloc(skip)
		case kind == wExtension:
			return 64 + 2*check.Alloc(skip)
		case generated && (c >= 0xe0 || c == 0xd0):
			return 16 // a boxed negative int64
		case c <= 0x7f, c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3, c == 0xcc, c == 0xd0:
			return 0 // stored in the interface word
		}
		return 16 // a boxed number
	case stringKind:
		if kind == wString || kind == wBinary {
			return stringCost(skip, true)
		}
	case bytesKind:
		if kind == wString || kind == wBinary {
			return 2 * check.Alloc(skip)
		}
	case sliceKind:
		switch {
		case kind != wArray:
		case p.stringSlice:
			return check.AllocOf(16*n, true)
		default:
			return 2 * check.AllocOf(n*p.elem.size, true) // made, then appended to a nil slice
		}
	case mapKind:
		if kind != wMap {
			break
		}
		n /= 2
		c := check.MapCost(n, p.key.size, p.key.align, p.elem.size, p.elem.align, p.sized)
		if p.newPerEntry {
			c += n * (check.AllocOf(p.key.size, true) + check.AllocOf(p.elem.size, true))
		}
		return c
	}
	return 0
}

func isString(c byte) bool { return kindOf(c) == wString }

// quickHeader is header with the two most common formats, fixint and
// fixstr, decided where it is inlined.
func quickHeader(data []byte, pos *int, c byte) (skip, children int64, err error) {
	switch {
	case c <= 0x7f, c >= 0xe0:
		return 0, 0, nil
	case c >= 0xa0 && c <= 0xbf:
		return int64(c & 0x1f), 0, nil
	}
	return header(data, pos, c)
}

// header decodes the format byte c (and any length field after it,
// advancing *pos) into the number of payload bytes to skip and the number
// of nested values that follow.
func header(data []byte, pos *int, c byte) (skip, children int64, err error) {
	switch {
	case c <= 0x7f, c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3: // fixint, nil, bool
		return 0, 0, nil
	case c <= 0x8f: // fixmap
		return 0, 2 * int64(c&0x0f), nil
	case c <= 0x9f: // fixarray
		return 0, int64(c & 0x0f), nil
	case c <= 0xbf: // fixstr
		return int64(c & 0x1f), 0, nil
	}
	switch c {
	case 0xc4, 0xd9: // bin8, str8
		n, err := length(data, pos, 1)
		return n, 0, err
	case 0xc5, 0xda: // bin16, str16
		n, err := length(data, pos, 2)
		return n, 0, err
	case 0xc6, 0xdb: // bin32, str32
		n, err := length(data, pos, 4)
		return n, 0, err
	case 0xc7: // ext8: length, type, data
		n, err := length(data, pos, 1)
		return n + 1, 0, err
	case 0xc8: // ext16
		n, err := length(data, pos, 2)
		return n + 1, 0, err
	case 0xc9: // ext32
		n, err := length(data, pos, 4)
		return n + 1, 0, err
	case 0xcc, 0xd0: // uint8, int8
		return 1, 0, nil
	case 0xcd, 0xd1: // uint16, int16
		return 2, 0, nil
	case 0xca, 0xce, 0xd2: // float32, uint32, int32
		return 4, 0, nil
	case 0xcb, 0xcf, 0xd3: // float64, uint64, int64
		return 8, 0, nil
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1, 2, 4, 8, 16 plus the type byte
		return 1 + int64(1)<<(c-0xd4), 0, nil
	case 0xdc: // array16
		n, err := length(data, pos, 2)
		return 0, n, err
	case 0xdd: // array32
		n, err := length(data, pos, 4)
		return 0, n, err
	case 0xde: // map16
		n, err := length(data, pos, 2)
		return 0, 2 * n, err
	case 0xdf: // map32
		n, err := length(data, pos, 4)
		return 0, 2 * n, err
	}
	return 0, 0, fmt.Errorf("invalid format byte 0x%02x", c)
}

// wkind is the kind of MessagePack value a format byte starts.
type wkind uint8

const (
	wNumber wkind = iota // numbers, nil and booleans
	wMap
	wArray
	wString
	wBinary
	wExtension
)

var wkindNames = [...]string{wNumber: "number", wMap: "map", wArray: "array", wString: "string", wBinary: "binary", wExtension: "extension"}

// kindOf returns the kind of value whose format byte is c.
func kindOf(c byte) wkind { return wkinds[c] }

// kindName names the kind of value whose format byte is c, for messages.
func kindName(c byte) string { return wkindNames[wkinds[c]] }

// wkinds holds the kind of every format byte.
var wkinds = func() (t [256]wkind) {
	for i := range t {
		switch c := byte(i); {
		case c >= 0x80 && c <= 0x8f, c == 0xde, c == 0xdf:
			t[i] = wMap
		case c >= 0x90 && c <= 0x9f, c == 0xdc, c == 0xdd:
			t[i] = wArray
		case c >= 0xa0 && c <= 0xbf, c >= 0xd9 && c <= 0xdb:
			t[i] = wString
		case c >= 0xc4 && c <= 0xc6:
			t[i] = wBinary
		case c >= 0xc7 && c <= 0xc9, c >= 0xd4 && c <= 0xd8:
			t[i] = wExtension
		}
	}
	return t
}()

// length reads a big-endian unsigned length of size bytes at *pos.
func length(data []byte, pos *int, size int) (int64, error) {
	if len(data)-*pos < size {
		return 0, io.ErrUnexpectedEOF
	}
	var n int64
	for _, b := range data[*pos : *pos+size] {
		n = n<<8 | int64(b)
	}
	*pos += size
	return n, nil
}
