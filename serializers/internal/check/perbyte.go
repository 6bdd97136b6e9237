package check

import "fmt"

// LimitPer returns the most that input of n bytes may cost for a
// serializer that allows perByte bytes per input byte (instead of
// PerByte): perByte*n + fixed.
func LimitPer(n, perByte int, fixed int64) int64 { return int64(perByte)*int64(n) + fixed }

// OverLimitPer is OverLimit for a serializer that allows perByte bytes
// per input byte. It matches ErrDecodeLimit.
func OverLimitPer(n, perByte int, est, fixed int64) error {
	return fmt.Errorf("%w: a payload of %d bytes would decode to as much as %d bytes of Go values, over the limit of %d (%d per byte plus %d)",
		ErrDecodeLimit, n, est, LimitPer(n, perByte, fixed), perByte, fixed)
}
