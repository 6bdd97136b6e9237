package json_test

import (
	stdjson "encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
	"github.com/netmessage-go/netmessage/serializers/json"
)

// array returns a JSON array of n copies of elem.
func array(n int, elem string) func() []byte {
	return func() []byte { return []byte("[" + strings.Repeat(elem+",", n-1) + elem + "]") }
}

// object returns a JSON object of n entries "k<i>": value.
func object(n int, value string) func() []byte {
	return func() []byte {
		var b strings.Builder
		b.WriteByte('{')
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%q:%s", fmt.Sprint("k", i), value)
		}
		b.WriteByte('}')
		return []byte(b.String())
	}
}

func marshal(v any) func() []byte {
	return func() []byte {
		b, err := stdjson.Marshal(v)
		if err != nil {
			panic(err)
		}
		return b
	}
}

// big is a large struct.
type big struct{ A [32]int64 }

// chain is a linked list.
type chain struct{ Next *chain }

// record is an ordinary request with a small map and a slice of structs.
type record struct {
	ID    int64          `json:"id"`
	Name  string         `json:"name"`
	Meta  map[string]any `json:"meta"`
	Items []sertest.Item `json:"items"`
}

// stamped embeds a struct by pointer and holds times.
type stamped struct {
	*sertest.Header
	At   time.Time
	Seen []time.Time
}

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
	mixed := make([]any, 20000)
	for i := range mixed {
		mixed[i] = float64(i) * 1.37
		if i%2 == 1 {
			mixed[i] = fmt.Sprint("product-", i)
		}
	}
	records := make([]record, 2000)
	for i := range records {
		records[i] = record{ID: int64(i), Name: "record", Meta: map[string]any{"source": "import", "retries": 2, "ok": true},
			Items: sertest.Items(3)}
	}
	texts := make([]sertest.Text, 2000)
	for i := range texts {
		texts[i] = sertest.Text{Body: "naïve café «quoted» \"line\"\n\ttab ✓ 日本語", Note: "<b>&amp;</b>"}
	}
	india := time.FixedZone("", 5*3600+1800)
	stamps := make([]stamped, 500)
	for i := range stamps {
		at := time.Date(2024, 1, 2, 3, 4, 5, i, india)
		stamps[i] = stamped{Header: &sertest.Header{ID: uint64(i), Method: "get"}, At: at, Seen: []time.Time{at, at.UTC()}}
	}
	sertest.RunBounded(t, json.New().Unmarshal, json.Bound, []sertest.Payload{
		{Name: "any: " + count + " empty objects", Data: array(n, "{}"), New: newOf[any](), Hostile: true},
		{Name: "any: " + count + " one-entry objects", Data: array(n, `{"":0}`), New: newOf[any](), Hostile: true},
		{Name: "any: " + count + " empty arrays", Data: array(n, "[]"), New: newOf[any](), Hostile: true},
		{Name: "any: " + count + " nested objects", Data: array(n/4, `{"a":{"b":{}}}`), New: newOf[any](), Hostile: true},
		{Name: "any: " + count + " short strings", Data: array(n, `"a"`), New: newOf[any](), Hostile: true},
		{Name: "any: " + count + " floats", Data: array(n, "1.5"), New: newOf[any](), Hostile: true},
		{Name: "map[string]any: tiny objects in a field", Data: func() []byte {
			return []byte(`{"a":` + string(array(n, `{"":0}`)()) + "}")
		}, New: newOf[map[string]any](), Hostile: true},
		{Name: "map[string]any: " + sertest.Count(sertest.Scale(200000)) + " one-entry objects", Data: object(sertest.Scale(200000), `{"":0}`), New: newOf[map[string]any](), Hostile: true},
		{Name: "[]any: " + count + " tiny objects", Data: array(n, `{"":0}`), New: newOf[[]any](), Hostile: true},
		{Name: "typed maps with one entry", Data: array(n/2, `{"a":1}`), New: newOf[[]map[string]int](), Hostile: true},
		{Name: "slice of large structs from null", Data: array(n, "null"), New: newOf[[]big](), Hostile: true},
		{Name: "slice of pointers from empty objects", Data: array(n, "{}"), New: newOf[[]*big](), Hostile: true},
		{Name: "slice of pointers from null", Data: array(n, "null"), New: newOf[[]*big](), Hostile: true},
		{Name: "struct field: " + count + " null items", Data: func() []byte {
			return []byte(`{"Items":` + string(array(n, "null")()) + "}")
		}, New: newOf[sertest.Envelope](), Hostile: true},
		{Name: "struct field: " + count + " empty items", Data: func() []byte {
			return []byte(`{"Items":` + string(array(n, "{}")()) + "}")
		}, New: newOf[sertest.Envelope](), Hostile: true},
		{Name: "nested empty slices", Data: array(n, "[]"), New: newOf[[][]int](), Hostile: true},
		{Name: "type errors: numbers into strings", Data: array(n, "1"), New: newOf[[]string](), Hostile: true},
		{Name: "type errors: fractions into ints", Data: array(n/2, "1.5"), New: newOf[[]int](), Hostile: true},
		{Name: "escaped strings", Data: array(n/8, `"\u00e9"`), New: newOf[[]string](), Hostile: true},
		{Name: "invalid UTF-8 strings", Data: array(n/8, "\"\xff\xff\xff\xff\""), New: newOf[[]string](), Hostile: true},
		{Name: "1 MB number", Data: func() []byte {
			return []byte(`{"Header":{"ID":` + strings.Repeat("9", 1<<20) + `}}`)
		}, New: newOf[sertest.Envelope](), Hostile: true, Want: []string{"cannot unmarshal number"}},
		{Name: "long unknown keys", Data: object(20000, `0`), New: newOf[sertest.Envelope](), Hostile: true},
		{Name: "64 nested arrays", Data: text(strings.Repeat("[", json.MaxDepth), strings.Repeat("]", json.MaxDepth)), New: newOf[any]()},
		{Name: "64 nested objects", Data: text(strings.Repeat(`{"a":`, json.MaxDepth), "null", strings.Repeat("}", json.MaxDepth)),
			New: newOf[map[string]any](), Hostile: true},
		// 64 levels of struct pointers need a 128 KiB stack: 112 KiB over
		// the 16 KiB that DecodeBound's fixed part allows are charged.
		{Name: "64 nested struct pointers", Data: text(strings.Repeat(`{"Next":`, json.MaxDepth), "null", strings.Repeat("}", json.MaxDepth)),
			New: newOf[chain](), Hostile: true},
		{Name: "65 nested arrays", Data: text(strings.Repeat("[", json.MaxDepth+1), strings.Repeat("]", json.MaxDepth+1)), New: newOf[any](),
			Hostile: true, Want: []string{"arrays and objects nested deeper than 64 (at byte offset 64)"}},
		{Name: "ordinary: 20000 items", Data: marshal(sertest.Envelope{Items: sertest.Items(20000)}), New: newOf[sertest.Envelope]()},
		{Name: "ordinary: 50 items", Data: marshal(sertest.Envelope{Header: sertest.Header{ID: 7, Method: "get", Tags: []string{"a", "b"}},
			Items: sertest.Items(50)}), New: newOf[sertest.Envelope]()},
		{Name: "ordinary: 100000 small int64s", Data: marshal(small), New: newOf[[]int64]()},
		// encoding/json appends each element to a []any (16 bytes, grown
		// by a quarter: about 80 bytes per element in all) and boxes each
		// number: about 36 bytes per byte of "12,", so it is refused.
		{Name: "100000 small ints in []any", Data: marshal(anys), New: newOf[any](), Hostile: true},
		{Name: "ordinary: 20000 prices and names in []any", Data: marshal(mixed), New: newOf[any]()},
		{Name: "ordinary: 20000 words", Data: marshal(words), New: newOf[[]string]()},
		{Name: "ordinary: map of 1000 strings", Data: marshal(strs), New: newOf[map[string]string]()},
		{Name: "ordinary: records with small maps", Data: marshal(records), New: newOf[[]record]()},
		{Name: "ordinary: records into any", Data: marshal(records), New: newOf[any]()},
		{Name: "ordinary: unicode and escaped text", Data: marshal(texts), New: newOf[[]sertest.Text]()},
		{Name: "ordinary: times and embedded pointers", Data: marshal(stamps), New: newOf[[]stamped]()},
	})
}
