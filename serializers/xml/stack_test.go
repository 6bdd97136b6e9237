//go:build !race

// The race detector makes stack frames larger; the figures hold without it.

package xml

import (
	"strings"
	"testing"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
)

// deepTree nests its Children, each level a struct in a slice.
type deepTree struct {
	Name     string
	Children []deepTree
}

// deepChain nests through pointers.
type deepChain struct {
	N    int
	Next *deepChain
}

// deepPath nests through a path in a tag.
type deepPath struct {
	Next *deepPath `xml:"a>Next"`
	N    int
}

// TestStackAtMaxDepth measures the decoder's stack at the nesting limit
// and checks it against maxStack.
func TestStackAtMaxDepth(t *testing.T) {
	nest := func(root, open, inner string, levels int) []byte {
		closeTags := strings.ReplaceAll(open, "<", "</")
		closeTags = reverseTags(closeTags)
		return []byte("<" + root + ">" + strings.Repeat(open, levels) + inner + strings.Repeat(closeTags, levels) + "</" + root + ">")
	}
	for _, c := range []struct {
		name    string
		shallow []byte
		deep    []byte
		newV    func() any
	}{
		{"skipped elements", []byte("<deepTree/>"), nest("deepTree", "<a>", "x", maxDepth-1), func() any { return new(deepTree) }},
		{"slices of structs", []byte("<deepTree/>"), nest("deepTree", "<Children>", "<Name>x</Name>", maxDepth-2), func() any { return new(deepTree) }},
		{"pointers", []byte("<deepChain/>"), nest("deepChain", "<Next>", "<N>1</N>", maxDepth-2), func() any { return new(deepChain) }},
		{"paths", []byte("<deepPath/>"), nest("deepPath", "<a><Next>", "<N>1</N>", (maxDepth-2)/2), func() any { return new(deepPath) }},
	} {
		shallow := sertest.StackOf(t, Serializer{}.Unmarshal, c.shallow, c.newV)
		deep := sertest.StackOf(t, Serializer{}.Unmarshal, c.deep, c.newV)
		t.Logf("%s: %d bytes of stack at depth %d (%d at depth 1)", c.name, deep, maxDepth, shallow)
		if deep > maxStack*9/8 { // an average: a goroutine may have grown for other reasons
			t.Errorf("%s: %d bytes of stack, over %d", c.name, deep, maxStack)
		}
	}
}

// reverseTags reverses the order of the end tags in s ("</a></b>" becomes
// "</b></a>").
func reverseTags(s string) string {
	parts := strings.SplitAfter(s, ">")
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteString(parts[i])
	}
	return b.String()
}
