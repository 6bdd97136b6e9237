package xml_test

import (
	stdxml "encoding/xml"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
	"github.com/netmessage-go/netmessage/serializers/xml"
)

// StdBase is embedded in StdTagged: its fields are promoted, and its ID is
// shadowed by the outer one.
type StdBase struct {
	ID    int64  `xml:"id"`
	Owner string `xml:"owner,omitempty"`
}

// StdTagged uses the tag options and field kinds encoding/xml knows.
type StdTagged struct {
	XMLName stdxml.Name `xml:"tagged"`
	Version int         `xml:"version,attr"`
	Lang    string      `xml:"lang,attr,omitempty"`
	StdBase
	ID      string          `xml:"id"`
	Name    string          `xml:"name,omitempty"`
	Skipped string          `xml:"-"`
	Ptr     *int            `xml:"ptr,omitempty"`
	NilPtr  *sertest.Item   `xml:"nilPtr"`
	Items   []sertest.Item  `xml:"items>item"`
	Ptrs    []*sertest.Item `xml:"entry"`
	Blob    []byte          `xml:"blob"`
	When    time.Time       `xml:"when"`
	WhenPtr *time.Time      `xml:"whenPtr,omitempty"`
	Deep    string          `xml:"a>b>c"`
	Note    string          `xml:",comment"`
	Zero    sertest.Item    `xml:"zero,omitempty"`
	unexp   int
}

// StdText holds character data beside an attribute.
type StdText struct {
	Unit  string  `xml:"unit,attr"`
	Value float64 `xml:",chardata"`
}

// StdInner keeps its content as it came.
type StdInner struct {
	Raw   string        `xml:",innerxml"`
	Attrs []stdxml.Attr `xml:",any,attr"`
}

// TestSameAsStdlib: Marshal writes what encoding/xml writes, and Unmarshal
// of encoding/xml's output gives what encoding/xml's Unmarshal gives, for
// the shared cases and for types using tag options.
func TestSameAsStdlib(t *testing.T) {
	seven := 7
	when := time.Date(2026, 3, 4, 5, 6, 7, 890, time.FixedZone("", -3*3600))
	cases := []sertest.Case{
		{Name: "tagged", New: func() any { return new(StdTagged) }, Value: StdTagged{
			Version: 2, Lang: "en", StdBase: StdBase{ID: 9, Owner: "o"}, ID: "outer", Name: "n", Skipped: "s", Ptr: &seven,
			Items: []sertest.Item{{Name: "a", Qty: 1, Price: 2.5}, {Name: "b"}}, Ptrs: []*sertest.Item{{Name: "p"}},
			Blob: []byte("bytes & <text>"), When: when, WhenPtr: &when, Deep: "deep", Note: "a comment", unexp: 3,
		}},
		{Name: "innerxml", New: func() any { return new(StdInner) }, Value: StdInner{Raw: "<a>1</a><b/>", Attrs: []stdxml.Attr{{Name: stdxml.Name{Local: "k"}, Value: "v"}}}},
		{Name: "tagged zero", New: func() any { return new(StdTagged) }, Value: StdTagged{}},
		{Name: "chardata", New: func() any { return new(StdText) }, Value: StdText{Unit: "kg", Value: 2.5}},
	}
	sertest.SameAsStdlib(t, xml.New(), sertest.XML, stdxml.Marshal, stdxml.Unmarshal, cases)
}
