//go:build !race

// The race detector makes stack frames larger; the figures hold without it.

package dotnetxml

import (
	"strings"
	"testing"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
)

// deepChain nests through pointers.
type deepChain struct {
	N    int32
	Next *deepChain
}

// deepTree nests through lists.
type deepTree struct {
	Name     string
	Children []deepTree
}

// TestStackAtMaxDepth measures the decoder's stack at the nesting limit
// and checks it against maxStack.
func TestStackAtMaxDepth(t *testing.T) {
	for _, c := range []struct {
		name          string
		shallow, deep string
		newV          func() any
	}{
		{"skipped elements", "<deepChain/>",
			"<deepChain>" + strings.Repeat("<a>", maxReadDepth-1) + strings.Repeat("</a>", maxReadDepth-1) + "</deepChain>",
			func() any { return new(deepChain) }},
		{"pointers", "<deepChain/>",
			"<deepChain>" + strings.Repeat("<Next>", maxReadDepth-2) + "<N>1</N>" + strings.Repeat("</Next>", maxReadDepth-2) + "</deepChain>",
			func() any { return new(deepChain) }},
		{"lists", "<deepTree/>",
			"<deepTree>" + strings.Repeat("<Children><deepTree>", (maxReadDepth-2)/2) + "<Name>x</Name>" +
				strings.Repeat("</deepTree></Children>", (maxReadDepth-2)/2) + "</deepTree>",
			func() any { return new(deepTree) }},
	} {
		shallow := sertest.StackOf(t, Serializer{}.Unmarshal, []byte(c.shallow), c.newV)
		deep := sertest.StackOf(t, Serializer{}.Unmarshal, []byte(c.deep), c.newV)
		t.Logf("%s: %d bytes of stack at depth %d (%d at depth 1)", c.name, deep, maxReadDepth, shallow)
		if deep > maxStack*9/8 { // an average: a goroutine may have grown for other reasons
			t.Errorf("%s: %d bytes of stack, over %d", c.name, deep, maxStack)
		}
	}
}
