package bench

import (
	"testing"

	"github.com/netmessage-go/netmessage/serializers/msgpack"
	"github.com/netmessage-go/netmessage/tests/bench/genpacket"
)

// BenchmarkPacketCodec encodes and decodes the small and the 16 KiB
// request with the msgpack serializer: reflective (nmCall), with each
// encoding option, generated (genpacket.Call), and the copy serializer.
func BenchmarkPacketCodec(b *testing.B) {
	s := msgpack.New()
	arrays, compact := msgpack.New(msgpack.StructsAsArrays()), msgpack.New(msgpack.CompactIntegers())
	for _, size := range []Size{Small, Large} {
		codecs := []struct {
			name string
			ser  interface {
				MarshalAppend([]byte, any) ([]byte, error)
				Unmarshal([]byte, any) error
			}
			v    any
			into func() any
		}{
			{"reflective", s, nmCall{Packet: packets[size]}, func() any { return new(nmCall) }},
			{"reflective-arrays", arrays, nmCall{Packet: packets[size]}, func() any { return new(nmCall) }},
			{"reflective-compact", compact, nmCall{Packet: packets[size]}, func() any { return new(nmCall) }},
			{"generated", s, genpacket.Call{Packet: genPackets[size]}, func() any { return new(genpacket.Call) }},
			{"copy", copySerializer{}, nmCall{Packet: packets[size]}, func() any { return new(nmCall) }},
		}
		for _, c := range codecs {
			buf, err := c.ser.MarshalAppend(nil, c.v)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(c.name+"/marshal/"+size.String(), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(buf)))
				out := make([]byte, 0, 2*len(buf))
				for b.Loop() {
					if _, err := c.ser.MarshalAppend(out[:0], c.v); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(c.name+"/unmarshal/"+size.String(), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(buf)))
				for b.Loop() {
					if err := c.ser.Unmarshal(buf, c.into()); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
