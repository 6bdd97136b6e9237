package check

import (
	"errors"
	"fmt"
	"math/bits"
)

// ErrDecodeLimit is matched (with errors.Is) by the error of an Unmarshal
// that refused its input, before decoding anything, because decoding it
// could allocate more than the serializer's DecodeBound allows.
var ErrDecodeLimit = errors.New("decoded size limit exceeded")

// PerByte is the heap every serializer may allocate per input byte while
// decoding, on top of a fixed amount: Unmarshal refuses input whose
// estimated decoded size is over PerByte*len(data) plus that amount.
const PerByte = 16

// Limit returns the most that input of n bytes may cost: PerByte*n + fixed.
func Limit(n int, fixed int64) int64 { return PerByte*int64(n) + fixed }

// OverLimit returns the error for input of n bytes whose decoding could
// allocate est bytes, more than the limit PerByte*n + fixed. It matches
// ErrDecodeLimit.
func OverLimit(n int, est, fixed int64) error {
	return fmt.Errorf("%w: a payload of %d bytes would decode to as much as %d bytes of Go values, over the limit of %d (%d per byte plus %d)",
		ErrDecodeLimit, n, est, Limit(n, fixed), PerByte, fixed)
}

// TooDeep returns the error for input nested deeper than limit at byte
// offset off.
func TooDeep(what string, limit, off int) error {
	return fmt.Errorf("%s nested deeper than %d (at byte offset %d)", what, limit, off)
}

// sizeClasses are the Go runtime's small object sizes (runtime/sizeclasses.go).
var sizeClasses = [...]int64{
	8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
	288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280,
	1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528,
	6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072,
	20480, 21760, 24576, 27264, 28672, 32768,
}

// AllocOf returns the bytes the runtime counts for an allocation of n
// bytes of a type with pointers (ptr) or without: a small object with
// pointers over 512 bytes carries an 8-byte header, which can move it to
// the next size class. Callers that do not know pass ptr true.
func AllocOf(n int64, ptr bool) int64 {
	if ptr && n > 512 && n <= 32768-8 {
		n += 8
	}
	return Alloc(n)
}

// smallClasses[(n+7)/8] is the size class of n bytes, for n up to
// smallClassMax: the binary search over sizeClasses, done once.
const smallClassMax = 1024

var smallClasses = func() (t [smallClassMax/8 + 1]int64) {
	for i := range t {
		n := int64(i) * 8
		for _, c := range sizeClasses {
			if c >= n {
				t[i] = c
				break
			}
		}
	}
	return t
}()

// Alloc returns the bytes the runtime counts for an allocation of n bytes
// without pointers: n rounded up to its size class, or to whole 8 KiB
// pages for large objects; 0 for n <= 0. See AllocOf for objects with
// pointers.
func Alloc(n int64) int64 {
	switch {
	case n <= 0:
		return 0
	case n <= 16:
		return 16 // tiny and small objects alike; tiny ones share a 16-byte block
	case n <= smallClassMax:
		return smallClasses[(n+7)>>3]
	case n <= 32768:
		lo, hi := 0, len(sizeClasses)-1
		for lo < hi {
			mid := (lo + hi) / 2
			if sizeClasses[mid] >= n {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		return sizeClasses[lo]
	}
	return (n + 8191) &^ 8191
}

// AppendGrowth returns an upper bound on what appending n elements of size
// bytes one by one to a nil slice allocates in all, the garbage of every
// growth step included: Go grows a slice by at least 1.25 times, so the
// steps sum to at most five times the final size, plus the rounding of
// each step.
func AppendGrowth(n, size int64) int64 {
	if n <= 0 || size <= 0 {
		return 0
	}
	var total int64
	for c := int64(0); c < n; {
		switch {
		case c == 0:
			c = 1
		case c < 256:
			c *= 2
		default:
			c += (c + 3*256) / 4
		}
		if c > n {
			c = n // the last step may be larger; Alloc of a larger c is charged below
		}
		total += AllocOf(c*size, true) + size // growslice rounds the capacity up to the size class
	}
	return total
}

// Map sizes, from Go's swiss tables (internal/runtime/maps): a map header,
// and groups of 8 slots, each group with an 8-byte control word. A map
// holds at most 7/8 of its slots; tables hold at most 1024 slots and are
// listed in a directory. Keys and elements over 128 bytes are stored
// behind pointers, each allocated on its own.
const (
	mapHeader     = 48
	groupSlots    = 8
	maxInline     = 128
	maxTableSlots = 1024
	tableHeader   = 64 // a table struct and its directory entry
)

// MapCost returns an upper bound on what a map with keys of keySize bytes
// and elements of elemSize bytes allocates when n entries are inserted
// after make(map, hint) with hint >= n (sized is true), or after a make
// without a hint (sized is false: the garbage of each growth step is
// included).
func MapCost(n, keySize, keyAlign, elemSize, elemAlign int64, sized bool) int64 {
	var perEntry int64
	if keySize > maxInline {
		perEntry += AllocOf(keySize, true)
		keySize, keyAlign = 8, 8
	}
	if elemSize > maxInline {
		perEntry += AllocOf(elemSize, true)
		elemSize, elemAlign = 8, 8
	}
	align := max(keyAlign, elemAlign, 1)
	slot := roundUp(roundUp(keySize, elemAlign)+elemSize, align)
	group := 8 + groupSlots*slot
	cost := int64(mapHeader) + n*perEntry
	if n <= groupSlots {
		cost += AllocOf(group, true)
	} else {
		slots := int64(1) << bits.Len64(uint64((n*8+6)/7-1)) // next power of two holding n at 7/8 load
		groups := slots / groupSlots
		tables := (slots + maxTableSlots - 1) / maxTableSlots
		cost += tables*tableHeader + AllocOf(min(groups, maxTableSlots/groupSlots)*group, true)*tables + Alloc(8*tables)
	}
	if !sized {
		cost = cost*5/2 + AllocOf(group, true) // each growth step copies into tables twice the size
	}
	return cost
}

func roundUp(n, a int64) int64 {
	if a <= 1 {
		return n
	}
	return (n + a - 1) / a * a
}
