//go:build !race

// The race detector makes stack frames larger; the figures hold without it.

package json

import (
	"strings"
	"testing"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
)

type (
	sliceChain []sliceChain
	mapChain   map[string]mapChain
	ptrChain   struct{ Next *ptrChain }
	mixedChain struct{ Next []map[string]any }
)

// TestStackAtMaxDepth measures the decoder's goroutine stack (the growth
// of MemStats.StackInuse while goroutines that decoded the document wait)
// for nestings up to the limit, and checks that the model charges at
// least as much: the stack the estimate allows (16 KiB, or the power of
// two its levels need) is never below what was measured.
func TestStackAtMaxDepth(t *testing.T) {
	pad := strings.Repeat(" ", 1<<20) // so that deep values pass the estimate
	for _, c := range []struct {
		name, open, close string
		newV              func() any
	}{
		{"arrays into any", "[", "]", func() any { return new(any) }},
		{"objects into any", `{"a":`, "}", func() any { return new(any) }},
		{"struct pointers", `{"Next":`, "}", func() any { return new(ptrChain) }},
		{"slices", "[", "]", func() any { return new(sliceChain) }},
		{"maps", `{"a":`, "}", func() any { return new(mapChain) }},
		{"struct, slice, map, any", `{"Next":[{"a":`, "}]}", func() any { return new(mixedChain) }},
	} {
		levels := 1
		if strings.Count(c.open, "[")+strings.Count(c.open, "{") == 3 {
			levels = 3
		}
		for _, depth := range []int{1, 8, 16, 32, maxDepth} {
			if depth%levels != 0 && depth != 1 {
				depth -= depth % levels
			}
			n := max(depth/levels, 1)
			data := []byte(strings.Repeat(c.open, n) + "null" + strings.Repeat(c.close, n) + pad)
			var s scanner
			s.data = data
			if ok, err := s.run(planFor(reflectTypeOf(c.newV()))); !ok || err != nil {
				t.Fatalf("%s at depth %d: not scanned: %v", c.name, depth, err)
			}
			allowed := int64(stackAllowance) + extraStack(s.maxStack)
			measured := sertest.StackOf(t, Serializer{}.Unmarshal, data, c.newV)
			got := nearestPowerOfTwo(measured)
			t.Logf("%s: %d bytes of stack at depth %d (measured %d), %d allowed", c.name, got, n*levels, measured, allowed)
			if int64(got) > allowed {
				t.Errorf("%s at depth %d: %d bytes of stack, over the %d allowed", c.name, n*levels, got, allowed)
			}
		}
	}
}

// nearestPowerOfTwo rounds a measured stack to the power of two it is
// nearest to: a goroutine's stack is a power of two, and other
// goroutines' stacks, which come and go meanwhile, add or take a little.
func nearestPowerOfTwo(n uint64) uint64 {
	p := uint64(1)
	for p*2 <= n {
		p *= 2
	}
	if n-p > p/2 {
		return 2 * p
	}
	return p
}
