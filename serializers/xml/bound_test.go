package xml_test

import (
	stdxml "encoding/xml"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
	"github.com/netmessage-go/netmessage/serializers/xml"
)

// Wide is a large struct: an empty element of a []Wide costs 16 strings.
type Wide struct{ A, B, C, D, E, F, G, H, I, J, K, L, M, N, O, P string }

// Wides holds a slice of large structs, and pointers to them.
type Wides struct {
	Items []Wide
	Ptrs  []*Wide
}

// Rich uses every field form encoding/xml decodes: attributes (named and
// any), character data, comments, inner XML, paths and any elements.
type Rich struct {
	XMLName stdxml.Name   `xml:"Rich"`
	ID      string        `xml:"id,attr"`
	Attrs   []stdxml.Attr `xml:",any,attr"`
	Text    string        `xml:",chardata"`
	Note    string        `xml:",comment"`
	Inner   string        `xml:",innerxml"`
	Leaves  []string      `xml:"a>b>c"`
	Others  []Wide        `xml:",any"`
}

// Row is a 1 KiB struct: each element of a []Row grows it by that much.
type Row struct{ A, B, C, D Wide }

// Rows and Label are both decoded from a <list> element: a []Row from
// its <b> children, or a small struct that skips them.
type (
	Rows struct {
		Items []Row `xml:"b"`
	}
	Label struct {
		Text       string `xml:"m"`
		X, Y, Z, W int64
	}
	Labeled struct {
		List Label `xml:"list"`
	}
)

// Shadowing holds a list as Rows, which shadows the embedded Label of
// the same name (larger than Rows, but it is not where elements go).
type Shadowing struct {
	List Rows `xml:"list"`
	Labeled
}

// PathShadowing holds rows under a path, which shadows the embedded
// string field named like the path's first step.
type PathShadowing struct {
	Items []Row `xml:"items>item"`
	Listed
}

// Listed is embedded by PathShadowing.
type Listed struct {
	Items string `xml:"items"`
}

// Dated holds times, which decode themselves.
type Dated struct {
	At   time.Time
	List []time.Time
}

// Record is an ordinary row: strings, numbers and a nested list.
type Record struct {
	ID    int64
	Name  string
	Score float64
	Tags  []string
	Items []sertest.Item
}

// Records is an ordinary list of rows.
type Records struct{ Rows []Record }

// prefix returns the encoding of v up to the last end of an element
// ending in end within its first n bytes.
func prefix(v any, n int, end string) string {
	b, err := stdxml.Marshal(v)
	if err != nil {
		panic(err)
	}
	s := string(b[:n])
	return s[:strings.LastIndex(s, end)+len(end)]
}

func marshal(v any) func() []byte {
	return func() []byte {
		b, err := stdxml.Marshal(v)
		if err != nil {
			panic(err)
		}
		return b
	}
}

// TestDecodeBound decodes hostile and ordinary payloads in a child
// process: each decodes within 32 bytes per input byte plus the fixed
// heap, below the estimate, or is refused with ErrDecodeLimit.
func TestDecodeBound(t *testing.T) {
	n := sertest.Scale(200_000)
	records := make([]Record, 2000)
	for i := range records {
		records[i] = Record{ID: int64(i), Name: fmt.Sprint("record ", i), Score: float64(i) / 3,
			Tags: []string{"alpha", "beta"}, Items: sertest.Items(3)}
	}
	times := make([]time.Time, 5000)
	for i := range times {
		times[i] = time.Date(2026, 1, 2, 3, 4, i%60, i, time.FixedZone("", 3600*(i%5)))
	}
	env := newOf[sertest.Envelope]()
	pad := strings.Repeat(" ", 60)
	sertest.RunBounded(t, xml.New().Unmarshal, xml.Bound, []sertest.Payload{
		{Name: "skipped empty elements", Data: text("<Envelope>", strings.Repeat("<a/>", n), "</Envelope>"), New: env, Hostile: true},
		{Name: "skipped elements with text", Data: text("<Envelope>", strings.Repeat("x<a></a>", n), "</Envelope>"), New: env, Hostile: true},
		{Name: "empty items", Data: text("<Envelope>", strings.Repeat("<Items/>", n), "</Envelope>"), New: env, Hostile: true},
		{Name: "empty items, truncated", Data: text("<Envelope>", strings.Repeat("<Items/>", n)), New: env, Hostile: true},
		{Name: "empty large structs", Data: text("<Wides>", strings.Repeat("<Items/>", n), "</Wides>"), New: newOf[Wides](), Hostile: true},
		{Name: "empty pointers to large structs", Data: text("<Wides>", strings.Repeat("<Ptrs/>", n), "</Wides>"), New: newOf[Wides](), Hostile: true},
		{Name: "empty tags", Data: text("<Envelope><Header>", strings.Repeat("<Tags/>", n), "</Header></Envelope>"), New: env, Hostile: true},
		{Name: "tags", Data: text("<Envelope><Header>", strings.Repeat("<Tags>t</Tags>", n), "</Header></Envelope>"), New: env, Hostile: true},
		{Name: "one-letter elements", Data: text("<Scalars>", strings.Repeat("<I>1</I>", n), "</Scalars>"), New: newOf[sertest.Scalars](), Hostile: true},
		{Name: "attributes", Data: text("<Envelope ", strings.Repeat("a=''", n), "/>"), New: env, Hostile: true},
		{Name: "namespace declarations", Data: numbered("<Envelope", ` xmlns:p#=""`, n, "/>"), New: env, Hostile: true},
		{Name: "any attributes", Data: text("<Rich ", strings.Repeat("a=''", n), "/>"), New: newOf[Rich](), Hostile: true},
		{Name: "comments", Data: text("<Envelope>", strings.Repeat("<!---->", n), "</Envelope>"), New: env, Hostile: true},
		{Name: "comments into a field", Data: text("<Rich>", strings.Repeat("<!--c-->", n), "</Rich>"), New: newOf[Rich](), Hostile: true},
		{Name: "processing instructions", Data: text("<Envelope>", strings.Repeat("<?a?>", n), "</Envelope>"), New: env, Hostile: true},
		{Name: "directives", Data: text("<Envelope>", strings.Repeat("<!a>", n), "</Envelope>"), New: env, Hostile: true},
		{Name: "CDATA sections", Data: text("<Envelope>", strings.Repeat("<![CDATA[]]>", n), "</Envelope>"), New: env, Hostile: true},
		{Name: "text in pieces", Data: text("<Envelope><Note>", strings.Repeat("a<!---->", n), "</Note></Envelope>"), New: env, Hostile: true},
		{Name: "chardata in pieces", Data: text("<Rich>", strings.Repeat("a<?p?>", n), "</Rich>"), New: newOf[Rich](), Hostile: true},
		{Name: "path leaves", Data: text("<Rich><a><b>", strings.Repeat("<c/>", n), "</b></a></Rich>"), New: newOf[Rich](), Hostile: true},
		{Name: "path steps", Data: text("<Rich>", strings.Repeat("<a><b><c/></b></a>", n/4), "</Rich>"), New: newOf[Rich](), Hostile: true},
		{Name: "any elements", Data: text("<Rich>", strings.Repeat("<z/>", n), "</Rich>"), New: newOf[Rich](), Hostile: true},
		{Name: "inner XML", Data: text("<Rich>", strings.Repeat("<y>text</y>", n), "</Rich>"), New: newOf[Rich](), Hostile: true},
		{Name: "rows in a field that shadows an embedded one", Data: text("<Shadowing><list>", strings.Repeat("<b/>"+pad, n/40), "</list></Shadowing>"),
			New: newOf[Shadowing](), Hostile: true},
		{Name: "rows under a path that shadows an embedded field", Data: text("<PathShadowing><items>", strings.Repeat("<item/>"+pad, n/40),
			"</items></PathShadowing>"), New: newOf[PathShadowing](), Hostile: true},
		{Name: "empty times", Data: text("<Dated>", strings.Repeat("<List/>", n), "</Dated>"), New: newOf[Dated](), Hostile: true},
		{Name: "a huge bad number", Data: text("<Envelope><Items><Qty>", strings.Repeat("\u0080", n), "</Qty></Items></Envelope>"), New: env, Hostile: true},
		{Name: "a bad number after items", Data: text(prefix(sertest.Envelope{Items: sertest.Items(20000)}, 1_000_000, "</Items>"),
			"<Items><Qty>", strings.Repeat("\u0080", 20000), "</Qty></Items></Envelope>"), New: env, Hostile: true, Want: []string{"invalid syntax"}},
		{Name: "a bad time after times", Data: text(prefix(Dated{List: times}, 200_000, "</List>"),
			"<At>", strings.Repeat("\u0080", 2000), "</At></Dated>"), New: newOf[Dated](), Hostile: true, Want: []string{"parsing time"}},
		{Name: "a huge name closed by another", Data: text("<Envelope><Note>", strings.Repeat("x", n), "</Note><", strings.Repeat("a", n), "></b></Envelope>"),
			New: env, Hostile: true, Want: []string{"closed by </b>"}},
		{Name: "32 nested recursive elements", Data: text(strings.Repeat("<Tree><Children>", 16), strings.Repeat("</Children></Tree>", 16)),
			New: newOf[sertest.Tree](), Hostile: true},
		{Name: "33 nested elements", Data: text("<Envelope>", strings.Repeat("<a>", xml.MaxDepth)), New: env, Hostile: true,
			Want: []string{"elements nested deeper than 32"}},
		{Name: "ordinary: 20000 items", Data: marshal(sertest.Envelope{Items: sertest.Items(20000)}), New: env},
		{Name: "ordinary: 50 items", Data: marshal(sertest.Envelope{Header: sertest.Header{ID: 7, Method: "get", Tags: []string{"a", "b"}},
			Items: sertest.Items(50)}), New: env},
		{Name: "ordinary: records", Data: marshal(Records{Rows: records}), New: newOf[Records]()},
		{Name: "ordinary: times", Data: marshal(Dated{List: times}), New: newOf[Dated]()},
		{Name: "ordinary: through a pointer", Data: marshal(sertest.Envelope{Items: sertest.Items(100)}), New: newOf[*sertest.Envelope]()},
		{Name: "ordinary: a long note", Data: marshal(sertest.Envelope{Note: strings.Repeat("note ", 100_000)}), New: env},
	})
}
