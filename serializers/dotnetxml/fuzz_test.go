package dotnetxml_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/serializers/dotnetxml"
)

// fuzzTargets are the types FuzzUnmarshal decodes into, chosen by the
// input's second argument.
var fuzzTargets = []func() any{
	func() any { return new(Everything) },
	func() any { return new(EchoRequest) },
	func() any { return new(Nullable) },
	func() any { return new(string) },
	func() any { return new(int32) },
	func() any { return new(float64) },
	func() any { return new(time.Time) },
	func() any { return new([]string) },
	func() any { return new([]Inner) },
	func() any { return new(Node) },
	func() any { return new(Optional) },
	func() any { return new([]*string) },
}

// FuzzUnmarshal feeds arbitrary documents to Unmarshal. It must never
// panic, whatever it accepts Marshal must be able to write, and writing,
// reading and writing again must give the same bytes (the encoding is a
// fixed point after one round).
func FuzzUnmarshal(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.xml"))
	for i, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(i))
	}
	s := dotnetxml.New()
	f.Fuzz(func(t *testing.T, data []byte, target uint8) {
		v := fuzzTargets[int(target)%len(fuzzTargets)]()
		if s.Unmarshal(data, v) != nil {
			return
		}
		m1, err := s.Marshal(v)
		if err != nil {
			t.Fatalf("Unmarshal accepted %q into %T, Marshal refused it: %v", data, v, err)
		}
		v2 := newLike(v)
		if err := s.Unmarshal(m1, v2); err != nil {
			t.Fatalf("Unmarshal of Marshal's %q: %v", m1, err)
		}
		m2, err := s.Marshal(v2)
		if err != nil {
			t.Fatalf("second Marshal: %v", err)
		}
		if !bytes.Equal(m1, m2) {
			t.Fatalf("not a fixed point:\n%q\n%q", m1, m2)
		}
	})
}
