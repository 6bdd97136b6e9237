package dotnetxml_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/netmessage-go/netmessage/serializers/dotnetxml"
)

// BenchmarkUnmarshal decodes the captured everything.xml (580 bytes) and a
// list of 1000 small objects (about 58 KiB); SetBytes reports the size.
func BenchmarkUnmarshal(b *testing.B) {
	golden, err := os.ReadFile(filepath.Join("testdata", "everything.xml"))
	if err != nil {
		b.Fatal(err)
	}
	items := make([]Inner, 1000)
	for i := range items {
		items[i] = Inner{Name: fmt.Sprint("item-", i), Value: int32(i)}
	}
	list, err := dotnetxml.New().Marshal(items)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		data []byte
		newV func() any
	}{
		{"everything", golden, func() any { return new(Everything) }},
		{"list", list, func() any { return new([]Inner) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := dotnetxml.New().Unmarshal(c.data, c.newV()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
