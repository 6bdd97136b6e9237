package json

import (
	stdjson "encoding/json"
	"reflect"
	"testing"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
)

// BenchmarkEstimate measures the pre-check pass alone, beside
// encoding/json's Unmarshal of the same payload ("decode").
func BenchmarkEstimate(b *testing.B) {
	for _, c := range []struct {
		name string
		v    any
	}{{"small", sertest.NewSmall()}, {"16KiB", sertest.NewLarge()}} {
		data, err := stdjson.Marshal(c.v)
		if err != nil {
			b.Fatal(err)
		}
		typ := reflect.TypeOf(c.v)
		b.Run(c.name+"/estimate", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, ok, err := estimate(data, planFor(typ)); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
		b.Run(c.name+"/decode", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := stdjson.Unmarshal(data, reflect.New(typ).Interface()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
