package json_test

import (
	stdjson "encoding/json"
	"strings"
	"testing"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
	"github.com/netmessage-go/netmessage/serializers/json"
)

func newOf[T any]() func() any { return func() any { return new(T) } }

// text returns a payload builder for the concatenation of parts.
func text(parts ...string) func() []byte {
	return func() []byte { return []byte(strings.Join(parts, "")) }
}

// TestBombs decodes hostile payloads in a child process with a memory
// limit: each must fail with a clear error, allocating little. JSON has no
// declared lengths; Unmarshal bounds nesting at 64 and the decoded size
// before encoding/json checks the whole input, before it allocates any
// value.
func TestBombs(t *testing.T) {
	depth := "arrays and objects nested deeper than 64"
	sertest.RunBombs(t, json.New().Unmarshal, []sertest.Bomb{
		{Name: "1M nested arrays", Data: text(strings.Repeat("[", 1_000_000)), New: newOf[any](),
			Want: []string{"*interface {}", depth}},
		{Name: "1M nested arrays, closed", Data: text(strings.Repeat("[", 1_000_000), strings.Repeat("]", 1_000_000)), New: newOf[any](),
			Want: []string{"*interface {}", depth}},
		{Name: "500k nested objects", Data: text(strings.Repeat(`{"a":`, 500_000)), New: newOf[sertest.Envelope](),
			Want: []string{"*sertest.Envelope", depth}},
		{Name: "1M nested arrays in a field", Data: text(`{"Items":`, strings.Repeat("[", 1_000_000)), New: newOf[sertest.Envelope](),
			Want: []string{"*sertest.Envelope", depth}},
		{Name: "1 MB number", Data: text(`{"Header":{"ID":`, strings.Repeat("9", 1<<20), `}}`), New: newOf[sertest.Envelope](),
			Want: []string{"*sertest.Envelope", "cannot unmarshal number 9999", "bytes elided", "of type uint64"}},
		{Name: "1 MB unterminated string", Data: text(`{"Note":"`, strings.Repeat("a", 1<<20)), New: newOf[sertest.Envelope](),
			Want: []string{"*sertest.Envelope", "unexpected end of JSON input"}},
		{Name: "64 nested arrays (accepted)", Data: text(strings.Repeat("[", 64), strings.Repeat("]", 64)), New: newOf[any]()},
		{Name: "65 nested arrays", Data: text(strings.Repeat("[", 65), strings.Repeat("]", 65)), New: newOf[any](),
			Want: []string{"*interface {}", "arrays and objects nested deeper than 64 (at byte offset 64)"}},
		{Name: "brackets in strings do not nest", Data: text(`{"Note":"`, strings.Repeat(`[{\"`, 1000), `"}`), New: newOf[sertest.Envelope]()},
		{Name: "baseline: 20000 items", Data: func() []byte {
			b, err := stdjson.Marshal(sertest.Envelope{Items: sertest.Items(20000)})
			if err != nil {
				panic(err)
			}
			return b
		}, New: newOf[sertest.Envelope]()},
		{Name: "1M empty items", Data: text(`{"Items":[{}`, strings.Repeat(",{}", 999_999), "]}"), New: newOf[sertest.Envelope](),
			Want: []string{"*sertest.Envelope", "decoded size limit exceeded"}},
	})
}
