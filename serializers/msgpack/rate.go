package msgpack

import (
	"math"

	"github.com/netmessage-go/netmessage/serializers/internal/check"
)

// Most types cannot decode to much more than their input: strings, numbers,
// byte slices and slices of them, in structs. For such a type, scan's
// estimate of any input is at most rate times the input's size, so input
// small enough that rate times its size is within the limit needs only its
// framing checked (declared lengths, nesting), which is cheaper than the
// estimate: see checkInput.
//
// The rates follow valueCost, with check.Alloc(x) <= 16 + 1.25x and
// check.AllocOf(x, ptr) <= 26 + 1.25x for every x (size classes are at most
// 40% apart above 16 bytes, where the 16 covers the gap, and pages above
// 32 KiB add at most 8 KiB), and every value taking at least one byte:
//   - A string or map key of n bytes costs Alloc(n), and Alloc(n) +
//     Alloc(2n) more past 64 bytes: at most 16 + 1.25n, or 48 + 5n past
//     64, over at least n+1 input bytes: rateString per byte (8.7 at n = 1,
//     less above).
//   - A byte slice of n bytes costs 2*Alloc(n) <= 32 + 2.5n over n+1 bytes:
//     rateBytes (17.25 at n = 1).
//   - A slice of n elements of size s costs slot(n) <= 52 + 2.5ns (made,
//     then appended to: 2*AllocOf) or, for []string, 26 + 20n, over a header
//     byte and n elements of at least one byte, each costing at most rate_e
//     per byte: the slice's rate is the largest of rate_e, 52 (or 26) and
//     2.5s + rate_e (or 20 + rate_e).
//   - A struct costs its keys (strings) and its fields; a field reached
//     through an embedded pointer (alloc > 0) makes the rate unbounded, as
//     do pointers, maps, interfaces and types that decode themselves, whose
//     cost per byte depends on the input's shape.
const (
	rateString = 9
	rateBytes  = 18
)

// unbounded is the rate of a type whose decoded size is not a fixed
// multiple of its input.
const unbounded = math.MaxInt64

// computing marks a plan whose rate is being computed: a type that
// contains itself gets the unbounded rate.
const computing = -1

// setRate computes p.rate, and that of the plans inside it.
func setRate(p *plan) int64 {
	switch p.rate {
	case computing:
		return unbounded
	case 0:
	default:
		return p.rate
	}
	p.rate = computing
	r := rateOf(p)
	p.rate = r
	return r
}

// rateOf is the rate of p (see setRate).
func rateOf(p *plan) int64 {
	switch p.kind {
	case skipKind, scalarKind:
		return 1 // nothing is charged; 1 marks the rate as computed
	case stringKind:
		return rateString
	case bytesKind:
		return rateBytes
	case arrayKind:
		return setRate(p.elem)
	case sliceKind:
		e := setRate(p.elem)
		if e == unbounded || p.elem.size > math.MaxInt32 {
			return unbounded
		}
		if p.stringSlice {
			return max(e, 26, 20+e)
		}
		return max(e, 52, (5*p.elem.size+1)/2+e)
	case structKind:
		r := int64(rateString) // the keys
		for _, fd := range p.fields {
			if fd.alloc > 0 {
				return unbounded
			}
			if f := setRate(fd.plan); f == unbounded {
				return unbounded
			} else {
				r = max(r, f)
			}
		}
		for _, fd := range p.list {
			if f := setRate(fd.plan); f == unbounded {
				return unbounded
			} else {
				r = max(r, f)
			}
		}
		return r
	}
	return unbounded
}

// framingSuffices reports whether input of n bytes decoded into p cannot
// be over the limit: rate*n <= check.PerByte*n + fixedHeap.
func framingSuffices(p *plan, n int) bool {
	r := p.rate
	if r <= check.PerByte {
		return true
	}
	return r != unbounded && int64(n) <= fixedHeap/(r-check.PerByte)
}
