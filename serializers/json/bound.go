package json

import "github.com/netmessage-go/netmessage/serializers/internal/check"

// ErrDecodeLimit is matched (with errors.Is) by the error of Unmarshal when
// it refuses, before decoding anything, input whose decoding could
// allocate more than [Serializer.DecodeBound] allows.
var ErrDecodeLimit = check.ErrDecodeLimit

// fixedHeap is what decoding allocates beyond PerByte per input byte:
// encoding/json's decodeState, its scanner's stack of nesting states, its
// error context, the error returned.
const fixedHeap = 4 << 10

// DecodeBound reports that Unmarshal(data, v) allocates at most
// perByte*len(data) + fixed bytes, heap and decoder stack together, for
// any input, if v points to a zero value: it refuses input that could
// cost more with [ErrDecodeLimit]. fixed is 20 KiB: 4 KiB of heap and
// 16 KiB of stack; a nesting that needs more stack is charged per byte.
func (Serializer) DecodeBound() (perByte, fixed int) {
	return check.PerByte, fixedHeap + stackAllowance
}
