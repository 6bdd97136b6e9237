package xml

import (
	"bytes"
	stdxml "encoding/xml"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/netmessage-go/netmessage/serializers/internal/xmldepth"
)

// libraryTooDeep is tooDeep as encoding/xml sees it: the offset of the
// first start element nested deeper than limit, or -1; and, if there is
// none, the offset of the token at which the decoder failed (len(data)
// when it reached the end cleanly).
func libraryTooDeep(data []byte, limit int) (off, failedAt int) {
	d := stdxml.NewDecoder(bytes.NewReader(data))
	depth := 0
	for {
		at := int(d.InputOffset())
		tok, err := d.Token()
		if err != nil {
			return -1, at
		}
		switch tok.(type) {
		case stdxml.StartElement:
			if depth++; depth > limit {
				return at, -1
			}
		case stdxml.EndElement:
			depth--
		}
	}
}

var depthSeeds = []string{
	"<a><b><c/></b></a>",
	"<a><b><c></c></b></a>",
	`<a x="<>/" y='">'><b z="/"/><b/></a>`,
	"<?xml version=\"1.0\"?><!-- <a><b> --><a><![CDATA[<b><c>]]><b/></a>",
	`<!DOCTYPE a [<!ENTITY e "<b>"> <!-- <c> > --> <!ELEMENT a ANY>]><a><b><c/></b></a>`,
	"<!DOCTYPE a><a><?pi <b> ?><b><c>text > more</c></b></a>",
	"<a:b xmlns:a='u'><a:c><d></d></a:c></a:b>",
	"<a><b></a>",
	"<a><!-x<b><c><d>",
	"<!\"<a><b><c>",
	"<a>]]><b><c><d></d></c></b></a>",
	"<a><b x=1><c><d>",
	"<" + strings.Repeat("a><", 6) + "/a>",
}

// FuzzTooDeep checks that tooDeep counts depth as encoding/xml does: the
// same offset when encoding/xml reaches a too deep element, and no earlier
// verdict when it fails first.
func FuzzTooDeep(f *testing.F) {
	for _, s := range depthSeeds {
		for limit := range 4 {
			f.Add([]byte(s), uint8(limit))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, limit8 uint8) {
		limit := int(limit8 % 8)
		got := tooDeep(data, limit)
		want, failedAt := libraryTooDeep(data, limit)
		if lexed, checked := lexerDepthError(data, limit), xmldepth.Check(data, limit); fmt.Sprint(lexed) != fmt.Sprint(checked) {
			t.Fatalf("%q, limit %d: the lexer says %v, Check %v", data, limit, lexed, checked)
		}
		switch {
		case want >= 0 && got != want:
			t.Fatalf("tooDeep(%q, %d) = %d, encoding/xml reaches depth %d at offset %d", data, limit, got, limit+1, want)
		case want < 0 && got >= 0 && got < failedAt:
			t.Fatalf("tooDeep(%q, %d) = %d, but encoding/xml reads up to offset %d within the limit", data, limit, got, failedAt)
		}
	})
}

// lexerDepthError returns the error xmldepth's Lexer stops with.
func lexerDepthError(data []byte, limit int) error {
	lx := xmldepth.NewLexer(data, limit)
	for {
		tok, err := lx.Next()
		if err != nil || tok == nil {
			return err
		}
	}
}

func TestCheckDepth(t *testing.T) {
	checkDepth := func(data []byte) error {
		_, err := estimate(data, reflect.TypeFor[struct{ A []string }](), false)
		return err
	}
	deep := func(n int) []byte {
		return []byte(strings.Repeat("<a>", n) + strings.Repeat("</a>", n))
	}
	if err := checkDepth(deep(maxDepth)); err != nil {
		t.Errorf("%d levels: %v", maxDepth, err)
	}
	wide := []byte("<a>" + strings.Repeat("<b/><c x='<'></c>", 3*maxDepth) + "</a>")
	if err := checkDepth(wide); err != nil {
		t.Errorf("wide document: %v", err)
	}
	err := checkDepth(deep(maxDepth + 1))
	if want := "elements nested deeper than 32 (at byte offset 96)"; err == nil || err.Error() != want {
		t.Errorf("%d levels: %v, want %q", maxDepth+1, err, want)
	}
}
