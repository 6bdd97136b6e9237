package json

import "github.com/netmessage-go/netmessage/serializers/internal/check"

// ErrDecodeLimit is matched (with errors.Is) by the error of Unmarshal when
// it refuses, before decoding anything, input whose decoding could
// allocate more than [Serializer.DecodeBound] allows.
var ErrDecodeLimit = check.ErrDecodeLimit

// Decoding costs beyond PerByte per input byte: fixedHeap of heap
// (encoding/json's decodeState, its scanner's stack of nesting states,
// its error context, the error returned), and maxStack, the goroutine
// stack the decoder needs at maxDepth (measured by TestStackAtMaxDepth).
const (
	fixedHeap = 4 << 10
	maxStack  = 64 << 10
)

// DecodeBound reports that Unmarshal(data, v) allocates at most
// perByte*len(data) + fixed bytes, heap and decoder stack together, for
// any input, if v points to a zero value: it refuses input that could
// cost more with [ErrDecodeLimit].
func (Serializer) DecodeBound() (perByte, fixed int) {
	return check.PerByte, fixedHeap + maxStack
}
