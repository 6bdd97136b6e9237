package xml_test

import (
	stdxml "encoding/xml"
	"strconv"
	"strings"
	"testing"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
	"github.com/netmessage-go/netmessage/serializers/xml"
)

func newOf[T any]() func() any { return func() any { return new(T) } }

// text returns a payload builder for the concatenation of parts.
func text(parts ...string) func() []byte {
	return func() []byte { return []byte(strings.Join(parts, "")) }
}

// numbered returns a payload builder for head, then n copies of format
// with every "#" replaced by the copy's number, then tail.
func numbered(head, format string, n int, tail string) func() []byte {
	return func() []byte {
		b := []byte(head)
		for i := range n {
			num := strconv.Itoa(i)
			b = append(b, strings.ReplaceAll(format, "#", num)...)
		}
		return append(b, tail...)
	}
}

// laughs returns the classic entity expansion document: ten levels of
// entities, each ten of the one below, referenced in the Note element or in
// an attribute.
func laughs(inAttr bool) func() []byte {
	return func() []byte {
		var b strings.Builder
		b.WriteString(`<?xml version="1.0"?><!DOCTYPE Envelope [<!ENTITY lol0 "lol">`)
		for i := 1; i <= 9; i++ {
			ref := "&lol" + strconv.Itoa(i-1) + ";"
			b.WriteString(`<!ENTITY lol` + strconv.Itoa(i) + ` "` + strings.Repeat(ref, 10) + `">`)
		}
		b.WriteString("]>")
		if inAttr {
			b.WriteString(`<Envelope a="&lol9;"></Envelope>`)
		} else {
			b.WriteString(`<Envelope><Note>&lol9;</Note></Envelope>`)
		}
		return []byte(b.String())
	}
}

// TestBombs decodes hostile payloads in a child process with a memory
// limit: each must fail with a clear error, allocating little.
// encoding/xml expands no entities but the five predefined ones and
// character references (Decoder.Entity is nil and Strict is on), so entity
// tricks end at the first reference; it never reads a DTD or an external
// entity.
func TestBombs(t *testing.T) {
	deep := "elements nested deeper than 32"
	entity := "invalid character entity"
	limit := "decoded size limit exceeded"
	sertest.RunBombs(t, xml.New().Unmarshal, []sertest.Bomb{
		{Name: "1M nested elements", Data: text("<Envelope>", strings.Repeat("<a>", 1_000_000)), New: newOf[sertest.Envelope](),
			Want: []string{"*sertest.Envelope", deep, "at byte offset 103"}},
		{Name: "100k nested elements, closed", Data: text("<Envelope>", strings.Repeat("<a>", 100_000), strings.Repeat("</a>", 100_000), "</Envelope>"),
			New: newOf[sertest.Envelope](), Want: []string{"*sertest.Envelope", deep}},
		{Name: "300k nested fields of a recursive type", Data: text("<Tree>", strings.Repeat("<Children>", 300_000)), New: newOf[sertest.Tree](),
			Want: []string{"*sertest.Tree", deep}},
		{Name: "billion laughs in text", Data: laughs(false), New: newOf[sertest.Envelope](),
			Want: []string{"*sertest.Envelope", entity + " &lol9;"}},
		{Name: "billion laughs in an attribute", Data: laughs(true), New: newOf[sertest.Envelope](),
			Want: []string{"*sertest.Envelope", entity + " &lol9;"}},
		{Name: "external entity", Data: text(`<!DOCTYPE Envelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Envelope><Note>&xxe;</Note></Envelope>`),
			New: newOf[sertest.Envelope](), Want: []string{"*sertest.Envelope", entity + " &xxe;"}},
		{Name: "32 nested elements (accepted)", Data: text("<Envelope>", strings.Repeat("<a>", 31), strings.Repeat("</a>", 31), "</Envelope>"),
			New: newOf[sertest.Envelope]()},
		{Name: "1 MB DOCTYPE (accepted)", Data: numbered("<!DOCTYPE Envelope [", `<!ENTITY e# "x">`, 50_000, "]><Envelope/>"),
			New: newOf[sertest.Envelope]()},
		{Name: "100k attributes (over the decode limit)", Data: numbered("<Envelope", ` a#="v"`, 100_000, "/>"), New: newOf[sertest.Envelope](),
			Want: []string{"*sertest.Envelope", limit}},
		{Name: "100k namespace declarations (accepted)", Data: numbered("<Envelope", ` xmlns:p#="urn:#"`, 100_000, "/>"),
			New: newOf[sertest.Envelope]()},
		{Name: "baseline: 20000 items", Data: func() []byte {
			b, err := stdxml.Marshal(sertest.Envelope{Items: sertest.Items(20000)})
			if err != nil {
				panic(err)
			}
			return b
		}, New: newOf[sertest.Envelope]()},
		{Name: "200k empty items (over the decode limit)", Data: text("<Envelope>", strings.Repeat("<Items/>", 200_000), "</Envelope>"),
			New: newOf[sertest.Envelope](), Want: []string{"*sertest.Envelope", limit}},
	})
}

// TestLibraryKeepsEveryOpenElement pins down why Unmarshal checks depth
// first: encoding/xml bounds the depth of the values it decodes into, but
// skips unknown elements at any depth, keeping each open one on its stack.
func TestLibraryKeepsEveryOpenElement(t *testing.T) {
	in := []byte("<Envelope>" + strings.Repeat("<a>", 20000) + strings.Repeat("</a>", 20000) + "</Envelope>")
	if err := stdxml.Unmarshal(in, new(sertest.Envelope)); err != nil {
		t.Errorf("encoding/xml rejects 20000 skipped levels (%v): the depth check may be revisited", err)
	}
	err := xml.New().Unmarshal(in, new(sertest.Envelope))
	sertest.WantError(t, "Unmarshal", err, sertest.XML, []string{"elements nested deeper than 32"})
}
