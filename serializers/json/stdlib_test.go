package json_test

import (
	stdjson "encoding/json"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
	"github.com/netmessage-go/netmessage/serializers/json"
)

// stdBase is embedded in stdTagged: its fields are promoted, and its ID is
// shadowed by the outer one.
type stdBase struct {
	ID    int64  `json:"id"`
	Owner string `json:"owner,omitempty"`
}

// stdTagged uses the tag options and field kinds encoding/json knows.
type stdTagged struct {
	stdBase
	ID      string            `json:"id"`
	Count   int64             `json:"count,string"`
	Ratio   float64           `json:"ratio,string,omitempty"`
	Flag    bool              `json:",string"`
	Name    string            `json:"name,omitempty"`
	Skipped string            `json:"-"`
	Dash    string            `json:"-,"`
	Ptr     *int              `json:"ptr,omitempty"`
	NilPtr  *sertest.Item     `json:"nilPtr"`
	Items   []sertest.Item    `json:"items"`
	Ptrs    []*sertest.Item   `json:"ptrs,omitempty"`
	Blob    []byte            `json:"blob"`
	When    time.Time         `json:"when"`
	WhenPtr *time.Time        `json:"whenPtr,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
	Zero    struct{ A int }   `json:"zero,omitzero"`
	unexp   int
}

// StdPointerBase is embedded by pointer in stdOuter.
type StdPointerBase struct {
	Base  string
	Level *int `json:",string"`
}

type stdOuter struct {
	*StdPointerBase
	Extra string
}

// TestSameAsStdlib: Marshal writes what encoding/json writes, and
// Unmarshal of encoding/json's output gives what encoding/json's Unmarshal
// gives, for the shared cases and for a type using tag options.
func TestSameAsStdlib(t *testing.T) {
	seven := 7
	when := time.Date(2026, 3, 4, 5, 6, 7, 890, time.FixedZone("", -3*3600))
	cases := []sertest.Case{
		{Name: "tagged", New: func() any { return new(stdTagged) }, Value: stdTagged{
			stdBase: stdBase{ID: 9, Owner: "o"}, ID: "outer", Count: 42, Ratio: 0.5, Flag: true, Dash: "d", Ptr: &seven,
			Items: []sertest.Item{{Name: "a", Qty: 1, Price: 2.5}}, Ptrs: []*sertest.Item{{Name: "p"}, nil},
			Blob: []byte{0, 1, 0xfe, 0xff}, When: when, WhenPtr: &when, Labels: map[string]string{"k": "v"}, unexp: 3,
		}},
		{Name: "embedded pointer", New: func() any { return new(stdOuter) }, Value: stdOuter{&StdPointerBase{Base: "b", Level: &seven}, "x"}},
		{Name: "embedded nil pointer", New: func() any { return new(stdOuter) }, Value: stdOuter{Extra: "x"}},
		{Name: "tagged zero", New: func() any { return new(stdTagged) }, Value: stdTagged{}},
	}
	sertest.SameAsStdlib(t, json.New(), sertest.JSON, stdjson.Marshal, stdjson.Unmarshal, cases)
}
