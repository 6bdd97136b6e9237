package json

import (
	"unicode/utf16"
	"unicode/utf8"

	"github.com/netmessage-go/netmessage/serializers/internal/check"
)

// maxDepth bounds the nesting of arrays and objects, and with it the
// decoder's stack: encoding/json recurses for each level (about 250 bytes
// of stack per level into an interface, 1 KiB through struct pointers),
// and its own limit, 10000 levels, lets a 20 KB document grow a
// goroutine's stack to megabytes.
const maxDepth = 64

// A frame is an open array or object during scan.
type frame struct {
	p      *plan // what the container decodes into (skipPlan: skipped)
	elem   *plan // the plan of the next value
	start  int   // offset of the opening bracket
	n      int64 // values (arrays) or entries (objects) so far
	path   int   // entries on encoding/json's field stack inside this container
	stack  int64 // decoder stack in use inside this container (see levelStack)
	vpath  int   // the same inside the next value (a struct field adds its own)
	obj    bool
	quoted bool // the next value is that of a ",string" field
}

// scanner holds the state of one estimate.
type scanner struct {
	data     []byte
	pos      int
	cost     int64
	maxPath  int
	maxStack int64
	frames   [maxDepth]frame
}

// own returns what the pass itself allocated for a key of n bytes built
// in a buffer of size bytes on the stack: past it, append moves it to the
// heap, which the estimate must cover too.
func own(n, size int) int64 {
	if n <= size {
		return 0
	}
	return appendGrowth(int64(n), 1, false)
}

// estimate checks that the arrays and objects of data nest at most
// maxDepth deep and returns an upper bound on what encoding/json's
// Unmarshal of data into a zero value of plan root allocates, apart from
// fixedHeap. ok is false if data is not valid JSON as far as the pass
// could tell: encoding/json then rejects it before allocating any value.
func estimate(data []byte, root *plan) (cost int64, ok bool, err error) {
	s := scanner{data: data}
	ok, err = s.run(root)
	if !ok || err != nil {
		return 0, ok, err
	}
	return s.cost + appendGrowth(int64(s.maxPath), 16, true) + extraStack(s.maxStack), true, nil
}

func (s *scanner) run(root *plan) (bool, error) {
	open := s.frames[:0]
	p, quoted, path := root, false, 0
	for {
		// A value follows, to be decoded into p.
		if !s.space() {
			return false, nil
		}
		start := s.pos
		switch c := s.data[s.pos]; c {
		case '[', '{':
			if len(open) == maxDepth {
				return false, check.TooDeep("arrays and objects", maxDepth, start)
			}
			s.pos++
			f := frame{start: start, obj: c == '{', path: path}
			if quoted {
				f.p = skipPlan
				s.cost += errorfCost
			} else {
				var cost int64
				f.p, cost = container(s.deref(p), f.obj)
				s.cost += cost
			}
			f.stack = levelStack(f.p, len(open) > 0 && open[len(open)-1].p.kind == anyKind)
			if len(open) > 0 {
				f.stack += open[len(open)-1].stack
			}
			s.maxStack = max(s.maxStack, f.stack)
			open = append(open, f)
		case '"':
			sh, ok := s.str()
			if !ok {
				return false, nil
			}
			if quoted {
				s.cost += quotedString(s.deref(p), sh)
			} else {
				s.cost += stringCost(s.deref(p), sh)
			}
		case 't', 'f', 'n':
			lit := "null"
			if c == 't' {
				lit = "true"
			} else if c == 'f' {
				lit = "false"
			}
			if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
				return false, nil
			}
			s.pos += len(lit)
			switch {
			case c == 'n':
				if deref(p).kind == opaqueKind {
					s.cost += opaquePerByte * 4
				}
			case quoted:
				s.cost += errorfCost
			default:
				s.cost += boolCost(s.deref(p))
			}
		default:
			sh, ok := s.number()
			if !ok {
				return false, nil
			}
			if quoted {
				s.cost += errorfCost + numberCost(anyPlan, sh)
			} else {
				s.cost += numberCost(s.deref(p), sh)
			}
		}
		// After a value or an opening bracket: close what ends here, and
		// find the plan of the next value.
		for {
			if len(open) == 0 {
				return !s.space(), nil // trailing data is refused by encoding/json
			}
			f := &open[len(open)-1]
			if !s.space() {
				return false, nil
			}
			c := s.data[s.pos]
			if c == ']' || c == '}' {
				if (c == '}') != f.obj {
					return false, nil
				}
				s.pos++
				s.cost += closeCost(f.p, f.obj, f.n)
				if f.p.kind == opaqueKind {
					s.cost += opaquePerByte * int64(s.pos-f.start)
				}
				open = open[:len(open)-1]
				continue
			}
			if f.n > 0 {
				if c != ',' {
					return false, nil
				}
				s.pos++
			}
			f.n++
			f.vpath, f.quoted = f.path, false
			if f.obj {
				if !s.key(f) {
					return false, nil
				}
			} else {
				f.elem = elemPlan(f.p, f.n-1)
			}
			p, quoted, path = f.elem, f.quoted, f.vpath
			break
		}
	}
}

// key reads an object key and the colon after it, charges the key and
// sets f.elem (and f.quoted, f.vpath) for the value that follows.
func (s *scanner) key(f *frame) bool {
	if !s.space() || s.data[s.pos] != '"' {
		return false
	}
	from := s.pos + 1
	sh, ok := s.str()
	if !ok {
		return false
	}
	raw := s.data[from : s.pos-1]
	f.elem = skipPlan
	switch f.p.kind {
	case anyKind, opaqueKind:
		f.elem = anyPlan
		s.cost += unquoteCost(sh) + check.Alloc(outLen(sh))
	case mapKind:
		f.elem = f.p.elem
		s.cost += mapKeyCost(f.p.key, sh, raw)
	case structKind:
		s.cost += unquoteCost(sh)
		// A key longer than 4 times the longest folded field name matches
		// no field (folding shrinks a rune's encoding at most 4 times).
		limit := 4 * f.p.maxFold
		key, ok := raw, len(raw) <= limit
		if sh.unquote {
			var buf [256]byte // zeroed only on this path
			key, ok = unquoteKey(buf[:0], raw, limit)
			s.cost += own(len(key), len(buf))
		}
		var fd *field
		if ok {
			fd = f.p.exact[string(key)]
		}
		if fd == nil {
			if outLen(sh) > 32 {
				s.cost += appendGrowth(outLen(sh), 1, false) // encoding/json's foldName buffer
			}
			if ok {
				var buf [256]byte
				folded := appendFold(buf[:0], key)
				s.cost += own(len(folded), len(buf))
				fd = f.p.folded[string(folded)]
			}
		}
		if fd != nil {
			f.elem, f.quoted, f.vpath = fd.plan, fd.quoted, f.path+fd.path
			s.maxPath = max(s.maxPath, f.vpath)
			s.cost += fd.alloc
		}
	}
	if !s.space() || s.data[s.pos] != ':' {
		return false
	}
	s.pos++
	return true
}

// space skips white space and reports whether a byte follows.
func (s *scanner) space() bool {
	for s.pos < len(s.data) {
		if c := s.data[s.pos]; c > ' ' || (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			return true
		}
		s.pos++
	}
	return false
}

// deref charges the pointers on the way to a non-null value decoded into
// p and returns the plan of the value they point to.
func (s *scanner) deref(p *plan) *plan {
	for p.kind == ptrKind {
		p = p.elem
		s.cost += alloc(p.size, p.ptr)
	}
	return p
}

func deref(p *plan) *plan {
	for p.kind == ptrKind {
		p = p.elem
	}
	return p
}

// A strShape describes a string literal: its length between the quotes,
// and whether encoding/json must unquote it into a new buffer (an escape,
// or bytes that are not valid UTF-8, each of which becomes U+FFFD).
type strShape struct {
	n       int64
	invalid int64 // bytes that are not valid UTF-8
	unquote bool
}

// str reads the string literal at s.pos.
func (s *scanner) str() (strShape, bool) {
	s.pos++
	start := s.pos
	var sh strShape
	high := false
	data := s.data
	for s.pos < len(data) {
		c := data[s.pos]
		if !special[c] {
			s.pos++
			continue
		}
		switch {
		case c == '"':
			sh.n = int64(s.pos - start)
			if high && !utf8.Valid(data[start:s.pos]) {
				sh.unquote, sh.invalid = true, invalidBytes(data[start:s.pos])
			}
			s.pos++
			return sh, true
		case c == '\\':
			sh.unquote = true
			s.pos++
		case c < ' ':
			return sh, false
		default:
			high = true
		}
		s.pos++
	}
	return sh, false
}

// special marks the bytes str must look at: the quote, the backslash,
// control bytes and bytes of multi-byte UTF-8.
var special = func() (t [256]bool) {
	for c := range t {
		t[c] = c == '"' || c == '\\' || c < ' ' || c >= utf8.RuneSelf
	}
	return t
}()

// invalidBytes counts the bytes of b that are not part of valid UTF-8.
func invalidBytes(b []byte) int64 {
	var n int64
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			n++
		}
		b = b[size:]
	}
	return n
}

// A numShape says whether a number literal may fail to parse into a
// field: its fraction, and the digits of its exponent.
type numShape struct {
	n         int64 // the literal's length
	frac, neg bool
	expDigits int
}

// number reads the number literal at s.pos.
func (s *scanner) number() (numShape, bool) {
	var sh numShape
	start := s.pos
	if s.data[s.pos] == '-' {
		sh.neg = true
		s.pos++
	}
	digits := func() int {
		n := 0
		for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
			s.pos++
			n++
		}
		return n
	}
	if digits() == 0 {
		return sh, false
	}
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		sh.frac = true
		if digits() == 0 {
			return sh, false
		}
	}
	if s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E') {
		s.pos++
		sh.frac = true
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if sh.expDigits = digits(); sh.expDigits == 0 {
			return sh, false
		}
	}
	sh.n = int64(s.pos - start)
	return sh, true
}

// unquoteKey appends the unquoted bytes of the key raw (without its
// quotes) to b, as encoding/json's unquoteBytes does, unless they are
// longer than limit.
func unquoteKey(b, raw []byte, limit int) ([]byte, bool) {
	for i := 0; i < len(raw); {
		if len(b) > limit {
			return b, false
		}
		c := raw[i]
		switch {
		case c == '\\' && i+1 < len(raw):
			switch e := raw[i+1]; e {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4(raw[i+2:])
				i += 6
				if utf16.IsSurrogate(r) {
					if len(raw) >= i+2 && raw[i] == '\\' && raw[i+1] == 'u' {
						if dec := utf16.DecodeRune(r, hex4(raw[i+2:])); dec != utf8.RuneError {
							b = utf8.AppendRune(b, dec)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
				continue
			default:
				b = append(b, e)
			}
			i += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			b = utf8.AppendRune(b, r)
			i += size
		}
	}
	return b, len(b) <= limit
}

// appendFold appends the folded form of key (valid UTF-8) to b, as
// encoding/json's foldName does.
func appendFold(b, key []byte) []byte {
	for i := 0; i < len(key); {
		if c := key[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			b = append(b, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(key[i:])
		b = utf8.AppendRune(b, foldRune(r))
		i += size
	}
	return b
}

// hex4 decodes four hex digits, or returns -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}
