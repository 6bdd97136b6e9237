package dotnetxml

import "github.com/netmessage-go/netmessage/serializers/internal/check"

// ErrDecodeLimit is matched (with errors.Is) by the error of Unmarshal when
// it refuses, before decoding anything, input whose decoding could
// allocate more than [Serializer.DecodeBound] allows.
var ErrDecodeLimit = check.ErrDecodeLimit

// Decoding costs beyond PerByte per input byte: fixedHeap of heap, and
// maxStack, the goroutine stack the decoder needs at its maximum nesting
// depth, rounded up to the stack's power-of-two growth.
const (
	fixedHeap = 8 << 10
	maxStack  = 64 << 10
)

// DecodeBound reports that Unmarshal(data, v) allocates at most
// perByte*len(data) + fixed bytes, heap and decoder stack together, for
// any input: it refuses input that could cost more with [ErrDecodeLimit].
func (Serializer) DecodeBound() (perByte, fixed int) {
	return check.PerByte, fixedHeap + maxStack
}
