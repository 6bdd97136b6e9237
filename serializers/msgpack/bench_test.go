package msgpack_test

import (
	"testing"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
	"github.com/netmessage-go/netmessage/serializers/msgpack"
)

// Sizes: "small" is sertest.Small (about 100 bytes encoded), "16KiB" is
// sertest.Large; SetBytes reports the encoded size.

func BenchmarkMarshal(b *testing.B) { sertest.BenchMarshal(b, msgpack.New()) }

func BenchmarkUnmarshal(b *testing.B) { sertest.BenchUnmarshal(b, msgpack.New()) }

// BenchmarkOptions measures each encoding option, with the default
// decoder reading what it writes.
func BenchmarkOptions(b *testing.B) {
	for _, c := range []struct {
		name string
		s    msgpack.Serializer
	}{
		{"default", msgpack.New()},
		{"arrays", msgpack.New(msgpack.StructsAsArrays())},
		{"compact", msgpack.New(msgpack.CompactIntegers())},
		{"arrays+compact", msgpack.New(msgpack.StructsAsArrays(), msgpack.CompactIntegers())},
	} {
		b.Run(c.name+"/marshal", func(b *testing.B) { sertest.BenchMarshal(b, c.s) })
		b.Run(c.name+"/unmarshal", func(b *testing.B) { sertest.BenchUnmarshal(b, c.s) })
	}
}
