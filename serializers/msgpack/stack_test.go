//go:build !race

// The race detector makes stack frames larger; the figures hold without it.

package msgpack

import (
	"bytes"
	"testing"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
)

func stackOf(t *testing.T, data []byte, newV func() any) uint64 {
	return sertest.StackOf(t, Serializer{}.Unmarshal, data, newV)
}

// TestStackAtMaxDepth measures the decoder's stack at the nesting limit
// and checks it against maxStack.
func TestStackAtMaxDepth(t *testing.T) {
	type node struct {
		Next *node
		S    string
	}
	for _, c := range []struct {
		name string
		open string
		newV func() any
	}{
		{"arrays into any", "\x91", func() any { return new(any) }},
		{"maps into any", "\x81\xa1a", func() any { return new(any) }},
		{"maps into map[string]any", "\x81\xa1a", func() any { return new(map[string]any) }},
		{"structs", "\x81\xa4Next", func() any { return new(node) }},
		{"arrays into [][]...any", "\x91", func() any { return new([][][][][][][][][][][][][][][][]any) }},
	} {
		// The innermost value is a long string, so that the payload's size
		// allows the nested containers.
		pad := append([]byte{0xda, 0x10, 0x00}, bytes.Repeat([]byte{'x'}, 0x1000)...)
		if c.name == "structs" {
			pad = append([]byte("\x81\xa1S"), pad...)
		}
		shallow := stackOf(t, []byte{0xc0}, c.newV)
		deep := stackOf(t, append(bytes.Repeat([]byte(c.open), maxDepth-1), pad...), c.newV)
		t.Logf("%s: %d bytes of stack at depth %d (%d at depth 0)", c.name, deep, maxDepth, shallow)
		if deep > maxStack*9/8 { // an average: a goroutine may have grown for other reasons
			t.Errorf("%s: %d bytes of stack, over %d", c.name, deep, maxStack)
		}
	}
}
