package msgpack

import (
	"reflect"
	"testing"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
)

// BenchmarkUnmarshalSteps splits Unmarshal of the small packet into its
// input check (scan: framing, depth and decoded-size estimate) and the
// library's decoding, for each struct encoding; framing is the check of
// the framing alone that runs before a generated UnmarshalMsg and before
// the fast path on large input.
func BenchmarkUnmarshalSteps(b *testing.B) {
	for _, s := range []Serializer{New(), New(StructsAsArrays())} {
		name := "map"
		if s.arrays {
			name = "array"
		}
		data, err := s.Marshal(sertest.NewSmall())
		if err != nil {
			b.Fatal(err)
		}
		p := planFor(reflect.TypeFor[sertest.Small]())
		b.Run(name+"/check", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := scan(data, p, false); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/framing", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := checkFraming(data); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := decode(data, new(sertest.Small)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/unmarshal", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Unmarshal(data, new(sertest.Small)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
