package dotnetxml_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/serializers/dotnetxml"
)

type (
	WithMap       struct{ M map[string]int }
	WithInterface struct{ V any }
	WithChan      struct{ C chan int }
	WithArray     struct{ A [2]int32 }
	WithPtrPtr    struct{ P **int32 }
	WithDup       struct {
		A string `dotnet:"X"`
		B string `dotnet:"X"`
	}
	WithBadTag struct {
		A string `dotnet:"1bad"`
	}
	Generic[T any] struct{ V T }
	Node           struct {
		Name string
		Next *Node
	}
	// OnlyMarshal can be written but not read back.
	OnlyMarshal int
	BigInt      struct{ N int }
)

func (OnlyMarshal) MarshalText() ([]byte, error) { return []byte("x"), nil }

func TestMarshalErrors(t *testing.T) {
	loop := &Node{Name: "a"}
	loop.Next = loop
	wide := int64(1) << 40 // a variable: as an int constant it would not compile for 32-bit ints
	for _, c := range []struct {
		v    any
		want string
	}{
		{nil, "marshal nil"},
		{(*Inner)(nil), "nil *dotnetxml_test.Inner"},
		{WithMap{}, "field WithMap.M: unsupported type map[string]int: XmlSerializer has no mapping for dictionaries"},
		{WithInterface{}, "field WithInterface.V: unsupported type interface {}"},
		{WithChan{}, "unsupported type chan int"},
		{WithArray{}, "use a slice"},
		{WithPtrPtr{}, "pointer to pointer"},
		{WithDup{}, `a second property named "X"`},
		{WithBadTag{}, `"1bad" is not an XML element name`},
		{Generic[int]{}, `"Generic[int]" is not a .NET class name`},
		{struct{ A int }{}, "not a .NET class name"},
		{loop, "nested deeper than 1000 elements"},
		{BigInt{N: int(wide)}, "N: 1099511627776 does not fit in a .NET int"},
		{Inner{Name: "a\x04"}, "Name: character U+0004 at byte offset 1 is not allowed in XML 1.0"},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "outside .NET DateTime's years 1 to 9999"},
		{complex(1, 2), "unsupported type complex128"},
	} {
		if _, ok := c.v.(BigInt); ok && strconv.IntSize < 64 {
			continue // a 32-bit int always fits
		}
		_, err := dotnetxml.New().Marshal(c.v)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Marshal(%T) = %v, want an error containing %q", c.v, err, c.want)
		}
	}
}

func TestUnmarshalErrors(t *testing.T) {
	for _, c := range []struct {
		in   string
		into any
		want string
	}{
		{"<Inner/>", Inner{}, "non-nil pointer"},
		{"<Inner/>", (*Inner)(nil), "non-nil pointer"},
		{"<Other/>", &Inner{}, "root element <Other>, want <Inner>"},
		{"", &Inner{}, "no root element"},
		{"text<Inner/>", &Inner{}, "text before the root element"},
		{"<Inner/><Inner/>", &Inner{}, "data after the root element"},
		{"<Inner><Value>x</Value></Inner>", &Inner{}, `Value: <Value>: invalid int "x"`},
		{"<Inner><Value>2147483648</Value></Inner>", &Inner{}, `invalid int "2147483648"`},
		{"<Inner><Value><b/></Value></Inner>", &Inner{}, "unexpected child element <b>"},
		{"<Inner><Name>a</Inner>", &Inner{}, "syntax error"},
		{"<Inner><Name>a", &Inner{}, "unexpected EOF"},
		{"<Everything><Level>Medium</Level></Everything>", &Everything{}, `unknown Level "Medium"`},
		{"<Everything><Blob>!!</Blob></Everything>", &Everything{}, "invalid base64Binary"},
		{"<Everything><When>2026-13-01T00:00:00</When></Everything>", &Everything{}, "invalid dateTime"},
		{"<Everything><When>0000-01-01T00:00:00</When></Everything>", &Everything{}, "outside years 1 to 9999"},
		{"<Everything><Id>xyz</Id></Everything>", &Everything{}, `invalid Guid "xyz"`},
		{"<Everything><Flag>yes</Flag></Everything>", &Everything{}, `invalid boolean "yes"`},
		{"<OnlyMarshal>x</OnlyMarshal>", new(OnlyMarshal), "does not implement encoding.TextUnmarshaler"},
		{"<Node>" + strings.Repeat("<Next>", 1001), &Node{}, "elements nested deeper than 32 (at byte offset 192)"},
		{"<string>\x01</string>", new(string), "illegal character"},
	} {
		err := dotnetxml.New().Unmarshal([]byte(c.in), c.into)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Unmarshal(%.40q, %T) = %v, want an error containing %q", c.in, c.into, err, c.want)
		}
	}
}

func TestGuid(t *testing.T) {
	want := "0f8fad5b-d9cb-469f-a165-70867728950e"
	for _, in := range []string{want, strings.ToUpper(want), "{" + want + "}", "(" + want + ")", strings.ReplaceAll(want, "-", "")} {
		g, err := dotnetxml.ParseGuid(in)
		if err != nil || g.String() != want {
			t.Errorf("ParseGuid(%q) = %v, %v", in, g, err)
		}
	}
	for _, in := range []string{"", want[:35], want + "0", "{" + want, "0f8fad5b+d9cb-469f-a165-70867728950e", "zf8fad5bd9cb469fa16570867728950e"} {
		if _, err := dotnetxml.ParseGuid(in); err == nil {
			t.Errorf("ParseGuid(%q) succeeded", in)
		}
	}
	if dotnetxml.NewGuid() == dotnetxml.NewGuid() {
		t.Error("NewGuid repeated itself")
	}
	if g := dotnetxml.NewGuid().String(); g[14] != '4' {
		t.Errorf("NewGuid %s is not version 4", g)
	}
}
