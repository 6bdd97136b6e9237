//go:build !race

// The race detector makes stack frames larger; the figures hold without it.

package json

import (
	"strings"
	"testing"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
)

// TestStackAtMaxDepth measures the decoder's goroutine stack at the
// nesting limit: the growth of MemStats.StackInuse while goroutines that
// decoded the document wait.
func TestStackAtMaxDepth(t *testing.T) {
	stackOf := func(doc string, newV func() any) uint64 {
		return sertest.StackOf(t, Serializer{}.Unmarshal, []byte(doc), newV)
	}
	type node struct{ Next *node }
	for _, c := range []struct {
		name, open, inner, close string
		newV                     func() any
	}{
		{"arrays into any", "[", "null", "]", func() any { return new(any) }},
		// Padded, to pass the decoded-size estimate of 64 maps.
		{"objects into any", `{"a":`, `"` + strings.Repeat("x", 4000) + `"`, "}", func() any { return new(any) }},
		{"structs", `{"Next":`, "null", "}", func() any { return new(node) }},
	} {
		flat := stackOf("null", c.newV)
		deep := stackOf(strings.Repeat(c.open, maxDepth)+c.inner+strings.Repeat(c.close, maxDepth), c.newV)
		t.Logf("%s: %d bytes of stack at depth %d (%d for a flat value)", c.name, deep, maxDepth, flat)
		if deep > 64<<10 {
			t.Errorf("%s: %d bytes of stack", c.name, deep)
		}
	}
}
