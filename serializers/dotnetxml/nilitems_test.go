package dotnetxml_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netmessage-go/netmessage/serializers/dotnetxml"
)

// Optional holds lists with null items, as C# List<string>, List<int?>
// and List<Inner> can.
type Optional struct {
	Names    []*string
	Counts   []*int32
	Children []*Inner
}

// TestGoldenNilItems: a null list item is written as XmlSerializer (Mono)
// writes it under NetMessage's empty namespace list, and read back as
// nil; a non-pointer list reads it as the zero value.
func TestGoldenNilItems(t *testing.T) {
	a, seven := "a", int32(7)
	const nilAttrs = ` xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" />`
	roundTrip(t, Optional{
		Names:    []*string{&a, nil},
		Counts:   []*int32{nil, &seven},
		Children: []*Inner{nil, {Name: "b"}},
	}, "<Optional>"+
		"<Names><string>a</string><string"+nilAttrs+"</Names>"+
		"<Counts><int"+nilAttrs+"<int>7</int></Counts>"+
		"<Children><Inner"+nilAttrs+"<Inner><Name>b</Name><Value>0</Value></Inner></Children>"+
		"</Optional>")
	roundTrip(t, []*string{nil}, "<ArrayOfString><string"+nilAttrs+"</ArrayOfString>")
	roundTrip(t, [][]*string{{nil}, nil}, "<ArrayOfArrayOfString><ArrayOfString><string"+nilAttrs+"</ArrayOfString><ArrayOfString"+nilAttrs+"</ArrayOfArrayOfString>")

	// Other prefixes .NET may choose, and a document-level declaration.
	for _, in := range []string{
		`<ArrayOfString><string p3:nil="true" xmlns:p3="http://www.w3.org/2001/XMLSchema-instance" /><string>x</string></ArrayOfString>`,
		`<ArrayOfString xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><string xsi:nil="true"/><string>x</string></ArrayOfString>`,
	} {
		var got []*string
		if err := dotnetxml.New().Unmarshal([]byte(in), &got); err != nil {
			t.Fatal(err)
		}
		x := "x"
		if d := cmp.Diff([]*string{nil, &x}, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", in, d)
		}
		var plain []string
		if err := dotnetxml.New().Unmarshal([]byte(in), &plain); err != nil || !cmp.Equal(plain, []string{"", "x"}) {
			t.Errorf("%s into []string: %q, %v", in, plain, err)
		}
	}
}
