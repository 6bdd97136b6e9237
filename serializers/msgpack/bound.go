package msgpack

import "github.com/netmessage-go/netmessage/serializers/internal/check"

// ErrDecodeLimit is matched (with errors.Is) by the error of Unmarshal when
// it refuses, before decoding anything, input whose decoding could
// allocate more than [Serializer.DecodeBound] allows.
var ErrDecodeLimit = check.ErrDecodeLimit

// Decoding costs beyond PerByte per input byte: fixedHeap of heap (the
// decoder's read buffer, the page rounding of one large slice, errors),
// and maxStack, the goroutine stack the decoder needs at maxDepth
// (measured by TestStackAtMaxDepth: 32 KiB; 8 KiB for a flat value).
const (
	fixedHeap = 8 << 10
	maxStack  = 32 << 10
)

// DecodeBound reports that Unmarshal(data, v) allocates at most
// perByte*len(data) + fixed bytes, heap and decoder stack together, for
// any input: it refuses input that could cost more with [ErrDecodeLimit].
func (Serializer) DecodeBound() (perByte, fixed int) {
	return check.PerByte, fixedHeap + maxStack
}
