package sertest

import "testing"

type benchCase struct {
	name  string
	value any
	new   func() any
}

func benchCases() []benchCase {
	return []benchCase{
		{"small", NewSmall(), newOf[Small]()},
		{"16KiB", NewLarge(), newOf[Large]()},
	}
}

// BenchMarshal benchmarks s.Marshal on the small and the 16 KiB packet.
func BenchMarshal(b *testing.B, s Serializer) {
	for _, bc := range benchCases() {
		b.Run(bc.name, func(b *testing.B) {
			data, err := s.Marshal(bc.value)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Marshal(bc.value); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchUnmarshal benchmarks s.Unmarshal on the small and the 16 KiB packet.
func BenchUnmarshal(b *testing.B, s Serializer) {
	for _, bc := range benchCases() {
		b.Run(bc.name, func(b *testing.B) {
			data, err := s.Marshal(bc.value)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Unmarshal(data, bc.new()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
