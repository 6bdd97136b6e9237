package genpacket_test

import (
	"testing"

	"github.com/netmessage-go/netmessage/serializers/msgpack"
	"github.com/netmessage-go/netmessage/tests/bench/genpacket"
)

// BenchmarkGenerated measures the msgpack serializer on a packet with
// generated methods: MarshalAppend of a value (whose pointer has
// MarshalMsg) and Unmarshal (input check and UnmarshalMsg).
func BenchmarkGenerated(b *testing.B) {
	s := msgpack.New()
	var v any = genpacket.Call{Packet: genpacket.Packet{ID: 0x1234567, Method: "Catalogue.Lookup", Seq: 42, OK: true, Score: 0.75, Tags: []string{"alpha", "beta", "gamma"}}}
	buf, err := s.MarshalAppend(nil, v)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf, _ = s.MarshalAppend(buf[:0], v)
		}
	})
	b.Run("unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var c genpacket.Call
			if err := s.Unmarshal(buf, &c); err != nil {
				b.Fatal(err)
			}
		}
	})
}
