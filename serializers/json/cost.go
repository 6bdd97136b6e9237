package json

import (
	"github.com/netmessage-go/netmessage/serializers/internal/check"
)

// What encoding/json allocates besides values, per occurrence.
const (
	// typeError is an *UnmarshalTypeError, made for every value of the
	// wrong type even though only the first is returned.
	typeError = 80
	// errorfCost is an error made with fmt.Errorf: for a ",string" field
	// given anything but a string or null, or for an embedded pointer to
	// an unexported struct type, which encoding/json cannot allocate.
	errorfCost = 512
	// opaquePerByte is charged per wire byte of a value whose type decodes
	// itself (json.Unmarshaler, encoding.TextUnmarshaler, time.Time), on
	// top of what the value would cost decoded into an interface: its
	// allocations cannot be known. time.Time with a half-hour offset, the
	// costliest common case, allocates about 150 bytes for 27.
	opaquePerByte = 4
	// boxed is an 8-byte scalar or a string header stored in an interface.
	boxed = 16
)

// container returns the plan the values of an array (obj false) or object
// landing in p are decoded with, and what opening it costs: a value of the
// wrong type is skipped after an error is made.
func container(p *plan, obj bool) (*plan, int64) {
	switch p.kind {
	case skipKind, anyKind, opaqueKind:
		return p, 0
	case sliceKind, bytesKind, arrayKind:
		if !obj {
			return p, 0
		}
	case structKind:
		if obj {
			return p, 0
		}
	case mapKind:
		if obj && p.key.kind != ptrKind {
			return p, 0
		}
	}
	return skipPlan, typeError
}

// elemPlan returns the plan of element i of an array decoded into p.
func elemPlan(p *plan, i int64) *plan {
	switch p.kind {
	case anyKind, opaqueKind:
		return anyPlan
	case sliceKind, bytesKind:
		return p.elem
	case arrayKind:
		if i < int64(p.n) {
			return p.elem
		}
	}
	return skipPlan
}

// closeCost is what an array (obj false) or object of n values or entries
// decoded into p allocates, apart from its values and keys.
func closeCost(p *plan, obj bool, n int64) int64 {
	switch p.kind {
	case anyKind, opaqueKind:
		if obj {
			return mapCost(n, stringPlan, anyPlan)
		}
		// make([]any, 0), appended to, stored in an interface.
		return 24 + appendGrowth(n, 16, true)
	case sliceKind, bytesKind:
		if n == 0 {
			return 24 // reflect.MakeSlice(t, 0, 0)
		}
		return appendGrowth(n, p.elem.size, p.elem.ptr) // reflect.Value.Grow(1) per element
	case mapKind:
		if n == 0 {
			return mapCost(0, p.key, p.elem)
		}
		// reflect.MakeMap, and one element value reused for every entry.
		return mapCost(n, p.key, p.elem) + alloc(p.elem.size, p.elem.ptr)
	}
	return 0
}

// mapCost is what a map made without a size hint allocates for n entries
// of plans key and elem, the garbage of its growth included: only its
// header while it is empty, one group of 8 slots (with its malloc header
// if it has pointers) up to 8 entries, then tables that double
// (check.MapCost, which charges the growth as 5/2 of the final tables).
func mapCost(n int64, key, elem *plan) int64 {
	switch {
	case n == 0:
		return 48
	case n <= 8:
		var perEntry int64
		ks, ka, es, ea := key.size, key.align, elem.size, elem.align
		if ks > 128 {
			perEntry += alloc(ks, key.ptr)
			ks, ka = 8, 8
		}
		if es > 128 {
			perEntry += alloc(es, elem.ptr)
			es, ea = 8, 8
		}
		a := max(ka, ea, 1)
		slot := (roundUp(ks, ea) + es + a - 1) / a * a
		return 48 + n*perEntry + alloc(8+8*slot, key.ptr || elem.ptr)
	}
	return check.MapCost(n, key.size, key.align, elem.size, elem.align, false)
}

func roundUp(n, a int64) int64 {
	if a <= 1 {
		return n
	}
	return (n + a - 1) / a * a
}

// outLen bounds the length of a string literal once unquoted: an invalid
// byte becomes the 3 bytes of U+FFFD.
func outLen(sh strShape) int64 { return sh.n + 2*sh.invalid }

// unquoteCost is what encoding/json's unquoteBytes allocates for a
// literal that needs unquoting: a buffer of its length plus 8, doubled
// while the output outgrows it.
func unquoteCost(sh strShape) int64 {
	if !sh.unquote {
		return 0
	}
	c := sh.n + 8
	total := check.Alloc(c)
	for m := outLen(sh); c-8 < m; {
		c = (c + 4) * 2
		total += check.Alloc(c)
	}
	return total
}

// stringCost is what a string literal decoded into p allocates.
func stringCost(p *plan, sh strShape) int64 {
	out := outLen(sh)
	u := unquoteCost(sh)
	switch p.kind {
	case skipKind:
		return 0
	case anyKind:
		if out == 0 {
			return 0 // "" needs neither a copy nor a box
		}
		return u + check.Alloc(out) + boxed
	case stringKind:
		return u + check.Alloc(out)
	case bytesKind:
		// base64: the decoded bytes, and a CorruptInputError if invalid.
		return u + check.Alloc(out/4*3+3) + boxed
	case opaqueKind:
		return u + check.Alloc(out) + boxed + opaquePerByte*(sh.n+2)
	}
	return u + typeError
}

// quotedString is what a string literal decoded into a ",string" field of
// plan p allocates: the string unquoted into an interface, copied to
// bytes, and decoded again as a literal, perhaps failing with a message
// quoting it.
func quotedString(p *plan, sh strShape) int64 {
	out := outLen(sh)
	inner := strShape{n: out, unquote: true, invalid: out}
	return unquoteCost(sh) + 2*check.Alloc(out) + boxed +
		max(stringCost(p, inner), numberCost(p, numShape{n: out, frac: true, neg: true, expDigits: 3})) +
		2*check.Alloc(6*out+256)
}

// boolCost is what true or false decoded into p allocates.
func boolCost(p *plan) int64 {
	switch p.kind {
	case skipKind, anyKind, boolKind:
		return 0
	case opaqueKind:
		return opaquePerByte * 5
	}
	return typeError
}

// numberCost is what a number literal of shape sh decoded into p
// allocates.
func numberCost(p *plan, sh numShape) int64 {
	// Into an interface: string(literal), then a boxed float64 (both may
	// share a 16-byte tiny block, but not with the race detector on).
	inAny := check.Alloc(sh.n) + boxed
	floatFails := sh.expDigits >= 3 || sh.n > 300
	switch p.kind {
	case skipKind:
		return 0
	case anyKind:
		return inAny + failCost(sh.n, floatFails)
	case ifaceKind:
		return inAny + failCost(sh.n, floatFails) + typeError
	case opaqueKind:
		return inAny + failCost(sh.n, floatFails) + opaquePerByte*sh.n
	case numKind:
		var c int64
		if sh.n > 32 {
			c = check.Alloc(sh.n) // string(literal) outgrows the stack buffer
		}
		var fails bool
		switch p.bits {
		case 0:
			fails = sh.frac || sh.n >= int64(p.digits) || (p.uint && sh.neg)
		case 32:
			fails = sh.expDigits >= 2 || sh.n > 38
		default:
			fails = floatFails
		}
		return c + failCost(sh.n, fails)
	case stringKind:
		if p.number {
			return check.Alloc(sh.n)
		}
	}
	return typeError
}

// failCost is what a number literal of n bytes that fails to parse costs
// if fails is set: strconv's *NumError with a copy of the literal, the
// literal copied again, and an *UnmarshalTypeError quoting it.
func failCost(n int64, fails bool) int64 {
	if !fails {
		return 0
	}
	return 48 + 2*check.Alloc(n) + check.Alloc(n+7) + typeError
}

// mapKeyCost is what an object key (raw, without quotes) costs decoded
// into a map key of plan k: reflect.New of the key type, and the key
// converted.
func mapKeyCost(k *plan, sh strShape, raw []byte) int64 {
	out := outLen(sh)
	u := unquoteCost(sh)
	switch k.kind {
	case stringKind:
		return u + alloc(k.size, true) + check.Alloc(out)
	case numKind:
		c := u + alloc(k.size, false)
		if out > 32 {
			c += check.Alloc(out)
		}
		fails := sh.unquote || out == 0 || out >= int64(k.digits)
		for i, b := range raw {
			if (b < '0' || b > '9') && (b != '-' || i > 0 || k.uint) {
				fails = true
			}
		}
		return c + failCost(out, fails)
	}
	// A key type that decodes itself from text.
	return u + alloc(k.size, k.ptr) + check.Alloc(out) + boxed + opaquePerByte*(sh.n+2)
}

// The decoder's goroutine stack: encoding/json recurses once per array
// or object, and the stack doubles when it is outgrown. Measured without
// the race detector (TestStackAtMaxDepth): a flat value uses about 3 KiB;
// a level decoded through reflection just under 1 KiB for a struct or map
// (charged 1152 bytes) and 600 bytes for a slice or array (charged 704);
// a level inside an interface value about 160 bytes (charged 192).
// DecodeBound's fixed part includes stackAllowance; a deeper stack is
// charged in the estimate, like heap.
const (
	baseStack      = 3 << 10
	stackAllowance = 16 << 10
)

// levelStack is the stack one array or object decoded into p takes;
// inAny is set if it is inside a value decoded into an interface.
func levelStack(p *plan, inAny bool) int64 {
	switch p.kind {
	case skipKind:
		return 0 // skipped without recursion
	case anyKind, opaqueKind:
		if inAny {
			return 192
		}
	case sliceKind, bytesKind, arrayKind:
		return 704
	}
	return 1152
}

// extraStack is the stack beyond stackAllowance that a nesting whose
// levels take levels bytes needs: the stack grows in powers of two.
func extraStack(levels int64) int64 {
	need := int64(8 << 10)
	for need < baseStack+levels {
		need *= 2
	}
	return max(need-stackAllowance, 0)
}
