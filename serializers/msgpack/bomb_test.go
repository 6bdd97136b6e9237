package msgpack_test

import (
	"bytes"
	"testing"

	vmsgpack "github.com/vmihailenco/msgpack/v5"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
	"github.com/netmessage-go/netmessage/serializers/msgpack"
)

func newOf[T any]() func() any { return func() any { return new(T) } }

// raw returns a payload builder for fixed bytes.
func raw(s string) func() []byte { return func() []byte { return []byte(s) } }

// deep returns a payload builder for n copies of open followed by a nil.
func deep(open string, n int) func() []byte {
	return func() []byte { return append(bytes.Repeat([]byte(open), n), 0xc0) }
}

// TestBombs decodes hostile payloads in a child process with a memory
// limit: each must fail with a clear error, allocating little.
func TestBombs(t *testing.T) {
	eof := "unexpected EOF"
	sertest.RunBombs(t, msgpack.New().Unmarshal, []sertest.Bomb{
		{Name: "array32 of 4G elements", Data: raw("\xdd\xff\xff\xff\xff"), New: newOf[[]int64](),
			Want: []string{"*[]int64", eof, "array at offset 0 declares 4294967295 elements, only 0 bytes remain"}},
		{Name: "map32 of 4G entries", Data: raw("\xdf\xff\xff\xff\xff"), New: newOf[map[string]any](),
			Want: []string{"*map[string]interface {}", eof, "map at offset 0 declares 4294967295 entries"}},
		{Name: "str32 of 4 GiB", Data: raw("\xdb\xff\xff\xff\xff"), New: newOf[string](),
			Want: []string{"*string", eof, "string at offset 0 declares 4294967295 bytes, only 0 remain"}},
		{Name: "bin32 of 4 GiB", Data: raw("\xc6\xff\xff\xff\xff"), New: newOf[[]byte](),
			Want: []string{"*[]uint8", eof, "binary at offset 0 declares 4294967295 bytes"}},
		{Name: "ext32 of 4 GiB", Data: raw("\xc9\xff\xff\xff\xff\x01"), New: newOf[any](),
			Want: []string{"*interface {}", eof, "extension at offset 0 declares 4294967296 bytes"}},
		{Name: "array32 in a struct field", Data: raw("\x81\xa5Items\xdd\xff\xff\xff\xff"), New: newOf[sertest.Envelope](),
			Want: []string{"*sertest.Envelope", eof, "array at offset 7 declares 4294967295 elements"}},
		{Name: "array32 nested in an array", Data: raw("\x92\x01\xdd\x7f\xff\xff\xff"), New: newOf[any](),
			Want: []string{"*interface {}", eof, "array at offset 2 declares 2147483647 elements"}},
		{Name: "1M nested arrays", Data: deep("\x91", 1_000_000), New: newOf[any](),
			Want: []string{"*interface {}", "containers nested deeper than 64"}},
		{Name: "1M nested maps", Data: deep("\x81\xa1a", 1_000_000), New: newOf[sertest.Envelope](),
			Want: []string{"*sertest.Envelope", "containers nested deeper than 64"}},
		{Name: "baseline: 20000 items", Data: func() []byte {
			b, err := vmsgpack.Marshal(sertest.Envelope{Items: sertest.Items(20000)})
			if err != nil {
				panic(err)
			}
			return b
		}, New: newOf[sertest.Envelope]()},
	})
}

// TestLibraryAllocatesDeclaredLength pins down why Unmarshal validates
// first: vmihailenco/msgpack v5.4.1 sizes a slice from the declared length
// (its allocation limit is disabled by a flag test that is always true), so
// twelve bytes declaring 2G elements of a 32-byte struct ask for 64 GiB.
func TestLibraryAllocatesDeclaredLength(t *testing.T) {
	sertest.RunBlowup(t, vmsgpack.Unmarshal, sertest.Bomb{
		Name: "array32 of 2G items, unguarded",
		Data: raw("\x81\xa5Items\xdd\x7f\xff\xff\xff"),
		New:  newOf[sertest.Envelope](),
	})
}
