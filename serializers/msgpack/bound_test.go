package msgpack_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"testing"

	vmsgpack "github.com/vmihailenco/msgpack/v5"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
	"github.com/netmessage-go/netmessage/serializers/msgpack"
)

// array32 returns an array header of n elements followed by n copies of elem.
func array32(n int, elem string) func() []byte {
	return func() []byte {
		b := binary.BigEndian.AppendUint32([]byte{0xdd}, uint32(n))
		return append(b, bytes.Repeat([]byte(elem), n)...)
	}
}

// map32 returns a map header of n entries followed by n copies of entry.
func map32(n int, entry string) func() []byte {
	return func() []byte {
		b := binary.BigEndian.AppendUint32([]byte{0xdf}, uint32(n))
		return append(b, bytes.Repeat([]byte(entry), n)...)
	}
}

func marshal(v any) func() []byte {
	return func() []byte {
		b, err := vmsgpack.Marshal(v)
		if err != nil {
			panic(err)
		}
		return b
	}
}

// big is a large struct whose slice elements can be encoded in one byte.
type big struct{ A [32]int64 }

// TestDecodeBound decodes hostile and ordinary payloads in a child
// process: each decodes within 16 bytes per input byte plus the fixed
// heap, below the estimate, or is refused with ErrDecodeLimit.
func TestDecodeBound(t *testing.T) {
	n := sertest.Scale(1 << 20)
	count := sertest.Count(n)
	words := make([]string, 20000)
	strs := make(map[string]string, 1000)
	for i := range words {
		words[i] = fmt.Sprintf("word%d", i)
	}
	for i := range 1000 {
		strs[fmt.Sprintf("user_id_%d", i)] = fmt.Sprintf("value %d", i)
	}
	small := make([]int64, 100000)
	anys := make([]any, 100000)
	for i := range small {
		small[i], anys[i] = int64(i%100), i%100
	}
	type record struct {
		ID    int64
		Name  string
		Meta  map[string]any
		Items []sertest.Item
	}
	records := make([]record, 2000)
	for i := range records {
		records[i] = record{ID: int64(i), Name: "record", Meta: map[string]any{"source": "import", "retries": 2, "ok": true},
			Items: sertest.Items(3)}
	}
	sertest.RunBounded(t, msgpack.New().Unmarshal, msgpack.Bound, []sertest.Payload{
		{Name: "any: " + count + " empty maps", Data: array32(n, "\x80"), New: newOf[any](), Hostile: true},
		{Name: "any: " + count + " one-entry maps", Data: array32(n, "\x81\xa0\xc0"), New: newOf[any](), Hostile: true},
		{Name: "any: " + count + " empty arrays", Data: array32(n, "\x90"), New: newOf[any](), Hostile: true},
		{Name: "any: " + count + " nested maps", Data: array32(n, "\x81\xa1a\x81\xa1b\x80"), New: newOf[any](), Hostile: true},
		{Name: "any: " + count + " short strings", Data: array32(n, "\xa1a"), New: newOf[any](), Hostile: true},
		{Name: "any: " + count + " boxed floats", Data: array32(n, "\xca\x00\x00\x00\x01"), New: newOf[any](), Hostile: true},
		{Name: "map[string]any: " + count + " tiny maps", Data: map32(n, "\xa1a\x81\xa0\xc0"), New: newOf[map[string]any](), Hostile: true},
		{Name: "[]any: " + count + " tiny maps", Data: array32(n, "\x81\xa0\xc0"), New: newOf[[]any](), Hostile: true},
		{Name: "typed maps with one entry", Data: array32(n, "\x81\xa1a\x01"), New: newOf[[]map[string]int](), Hostile: true},
		{Name: "map[int]big with one entry", Data: array32(n/4, "\x81\x01\x80"), New: newOf[[]map[int]big](), Hostile: true},
		{Name: "slice of large structs from nil", Data: array32(n, "\xc0"), New: newOf[[]big](), Hostile: true},
		{Name: "slice of pointers from empty maps", Data: array32(n, "\x80"), New: newOf[[]*big](), Hostile: true},
		{Name: "struct field: " + count + " nil items", Data: func() []byte {
			return append(binary.BigEndian.AppendUint32([]byte("\x81\xa5Items\xdd"), uint32(n)), bytes.Repeat([]byte{0xc0}, n)...)
		}, New: newOf[sertest.Envelope](), Hostile: true},
		{Name: "64 nested arrays", Data: deep("\x91", msgpack.MaxDepth), New: newOf[any]()},
		{Name: "64 nested maps", Data: deep("\x81\xa1a", msgpack.MaxDepth), New: newOf[map[string]any](), Hostile: true},
		{Name: "typed []any of " + count + " small ints", Data: array32(n, "\x01"), New: newOf[[]any](), Hostile: true},
		{Name: "65 nested arrays", Data: deep("\x91", msgpack.MaxDepth+1), New: newOf[any](), Hostile: true,
			Want: []string{"containers nested deeper than 64 (at byte offset 64)"}},
		{Name: "ordinary: 20000 items", Data: marshal(sertest.Envelope{Items: sertest.Items(20000)}), New: newOf[sertest.Envelope]()},
		{Name: "ordinary: 50 items", Data: marshal(sertest.Envelope{Header: sertest.Header{ID: 7, Method: "get", Tags: []string{"a", "b"}},
			Items: sertest.Items(50)}), New: newOf[sertest.Envelope]()},
		{Name: "ordinary: 100000 small int64s", Data: marshal(small), New: newOf[[]int64]()},
		{Name: "ordinary: 100000 small ints in []any", Data: marshal(anys), New: newOf[any]()},
		{Name: "ordinary: 20000 words", Data: marshal(words), New: newOf[[]string]()},
		{Name: "ordinary: map of 1000 strings", Data: marshal(strs), New: newOf[map[string]string]()},
		{Name: "ordinary: records with small maps", Data: marshal(records), New: newOf[[]record]()},
		{Name: "ordinary: records into any", Data: marshal(records), New: newOf[any]()},
	})
}

// Fields whose tags the library's tag parser reads otherwise than a split
// at the first comma would: a space after the comma, spaces around the
// name, an option without a name. Each is decoded under the key Items.
type (
	tagSpacedAlias struct {
		Things []big `msgpack:"things, alias:Items"`
	}
	tagSpacedName struct {
		Items []big `msgpack:" Items "`
	}
	tagOptionOnly struct {
		Items []big `msgpack:"alias:things"`
	}
)

// TestDecodeBoundReadsTagsAsLibrary: the estimate knows a field under
// every name the library decodes it under, so that a hostile payload
// under any of them is refused.
func TestDecodeBoundReadsTagsAsLibrary(t *testing.T) {
	const n = 1 << 14
	hostile := append(binary.BigEndian.AppendUint32([]byte("\x81\xa5Items\xdd"), n), bytes.Repeat([]byte{0xc0}, n)...)
	for _, v := range []any{&tagSpacedAlias{}, &tagSpacedName{}, &tagOptionOnly{}} {
		if err := vmsgpack.Unmarshal([]byte("\x81\xa5Items\x91\xc0"), v); err != nil || reflect.ValueOf(v).Elem().Field(0).Len() != 1 {
			t.Fatalf("%T: the library did not decode the key Items into the field: %v", v, err)
		}
		if err := msgpack.New().Unmarshal(hostile, v); !errors.Is(err, msgpack.ErrDecodeLimit) {
			t.Errorf("%T: Items of %d nil elements (%d bytes each, allocated twice): %v, want ErrDecodeLimit", v, n, reflect.TypeFor[big]().Size(), err)
		}
	}
}
