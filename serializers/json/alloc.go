package json

import (
	"reflect"

	"github.com/netmessage-go/netmessage/serializers/internal/check"
)

// alloc returns the bytes the runtime counts for an allocation of n bytes
// of a type with pointers (ptr) or without: small objects with pointers
// over 512 bytes carry an 8-byte header, which can move them to the next
// size class.
func alloc(n int64, ptr bool) int64 { return check.AllocOf(n, ptr) }

// appendGrowth returns what appending n elements of size bytes one at a
// time to an empty slice allocates, every growth step included: it
// follows runtime.growslice (double the capacity below 256 elements, then
// grow by a quarter plus 192, rounded up to the size class), which
// append and reflect.Value.Grow(1) both use.
func appendGrowth(n, size int64, ptr bool) int64 {
	if n <= 0 || size <= 0 {
		return 0
	}
	var total, c int64
	for c < n {
		next := c + 1
		switch {
		case c < 256:
			next = max(2*c, 1)
		default:
			for next = c; next < c+1; {
				next += (next + 3*256) >> 2
			}
		}
		bytes := alloc(next*size, ptr)
		total += bytes
		usable := bytes
		if ptr && next*size > 512 && next*size <= 32768-8 {
			usable -= 8
		}
		c = max(usable/size, next)
	}
	return total
}

// hasPointers reports whether values of type t hold pointers, which the
// collector scans.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.String, reflect.Interface,
		reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return true
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}
