package xml

import (
	"bytes"
	stdxml "encoding/xml"
	"strconv"
	"strings"
	"testing"

	"github.com/netmessage-go/netmessage/serializers/internal/xmldepth"
)

var lexerSeeds = append([]string{
	`<a x="1" y='2'>text &amp; more<![CDATA[<b>]]><!--c--><?p i?><!DOCTYPE a><b/></a>`,
	`<p:a xmlns:p="u" p:x="1"><p:b>t</p:b></p:a>`,
	"<a\n\tx = \"1\"\n/>tail",
	`<a x="1"y="2"></a >`,
	"<a:>x</a:>",
}, depthSeeds...)

// FuzzLexer checks that xmldepth's Lexer sees the tokens encoding/xml
// reads, up to the first error: the same kinds in the same order, the
// same local names, at least as many attributes and no shorter contents,
// so that the estimate built on it is an upper bound.
func FuzzLexer(f *testing.F) {
	for _, s := range lexerSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lx := xmldepth.NewLexer(data, 1<<30)
		d := stdxml.NewDecoder(bytes.NewReader(data))
		for i := 0; ; i++ {
			want, err := d.RawToken()
			if err != nil {
				if v, ok := declRefused(err); ok {
					if got, _ := lx.Next(); got == nil || got.Kind != xmldepth.ProcInst || got.Quoted < len(v) {
						t.Fatalf("token %d: encoding/xml refused a declaration quoting %d bytes, the lexer read %+v", i, len(v), got)
					}
				}
				return
			}
			got, lerr := lx.Next()
			if lerr != nil || got == nil {
				t.Fatalf("token %d: lexer ended (%v), encoding/xml read %#v", i, lerr, want)
			}
			switch w := want.(type) {
			case stdxml.StartElement:
				switch {
				case got.Kind != xmldepth.Start:
					t.Fatalf("token %d: kind %d, want a start tag %#v", i, got.Kind, w)
				case string(got.Local) != w.Name.Local:
					t.Fatalf("token %d: local name %q, want %q", i, got.Local, w.Name.Local)
				case got.Attrs < len(w.Attr):
					t.Fatalf("token %d: %d attributes, encoding/xml read %d", i, got.Attrs, len(w.Attr))
				}
				n := 0
				for _, a := range w.Attr {
					n += len(a.Name.Space) + len(a.Name.Local) + len(a.Value)
				}
				if n > got.AttrBytes {
					t.Fatalf("token %d: %d bytes of attributes, encoding/xml read %d", i, got.AttrBytes, n)
				}
			case stdxml.EndElement:
				if got.Kind != xmldepth.End || string(got.Local) != w.Name.Local {
					t.Fatalf("token %d: kind %d %q, want an end tag %#v", i, got.Kind, got.Local, w)
				}
			case stdxml.CharData:
				if got.Kind != xmldepth.Text || got.Len < len(w) {
					t.Fatalf("token %d: kind %d of %d bytes, want text of %d", i, got.Kind, got.Len, len(w))
				}
			case stdxml.Comment:
				if got.Kind != xmldepth.Comment || got.Len < len(w) {
					t.Fatalf("token %d: kind %d of %d bytes, want a comment of %d", i, got.Kind, got.Len, len(w))
				}
			case stdxml.ProcInst:
				if got.Kind != xmldepth.ProcInst || got.Len < len(w.Inst)+len(w.Target) {
					t.Fatalf("token %d: kind %d, want %#v", i, got.Kind, w)
				}
			case stdxml.Directive:
				if got.Kind != xmldepth.Directive || got.Len < len(w) {
					t.Fatalf("token %d: kind %d, want a directive of %d bytes", i, got.Kind, len(w))
				}
			}
			if got.Len > lx.Longest {
				t.Fatalf("token %d: %d bytes, longest %d", i, got.Len, lx.Longest)
			}
		}
	})
}

// declRefused returns the value that err, encoding/xml's error refusing an
// XML declaration (its version or its encoding), quotes; ok is false for
// any other error.
func declRefused(err error) (value string, ok bool) {
	if err == nil {
		return "", false
	}
	for _, prefix := range []string{"xml: unsupported version ", "xml: encoding "} {
		if rest, found := strings.CutPrefix(err.Error(), prefix); found {
			q, qerr := strconv.QuotedPrefix(rest)
			if qerr != nil {
				return "", false
			}
			v, _ := strconv.Unquote(q)
			return v, true
		}
	}
	return "", false
}

// TestRefusedDeclarations: the lexer finds the value encoding/xml quotes
// when it refuses an XML declaration, and nothing in the declarations and
// instructions it takes, whose errors the estimate then does not charge.
func TestRefusedDeclarations(t *testing.T) {
	for _, c := range []struct {
		pi     string
		quoted int
	}{
		{`xml version="1.0"`, 0},
		{`xml version="1.0" encoding="UTF-8" standalone="yes"`, 0},
		{`xml version='1.0' encoding='utf-8'`, 0},
		{`xml encoding="Utf-8"`, 0},
		{`xml version="1.1"`, 3},
		{`xml version='2.0' encoding="latin1"`, 3},
		{`xml version="1.0" encoding="latin1"`, 6},
		{`xml encoding="utf-16"`, 6},
		{`xml version=version="2.0"`, 0}, // a quote must follow "version=" at once
		{`xml versionx="2" version="3.0"`, 3},
		{`xml version="1.0`, 0}, // no closing quote: no version
		{`xml version=""`, 0},
		{`xml-stylesheet version="2"`, 0},
		{`XML version="2"`, 0},
		{`php version="2"`, 0},
	} {
		doc := "<?" + c.pi + "?><a/>"
		lx := xmldepth.NewLexer([]byte(doc), 8)
		tok, err := lx.Next()
		if err != nil || tok == nil || tok.Kind != xmldepth.ProcInst {
			t.Fatalf("%s: %+v, %v", doc, tok, err)
		}
		if tok.Quoted != c.quoted {
			t.Errorf("%s: quoted %d, want %d", doc, tok.Quoted, c.quoted)
		}
		_, err = stdxml.NewDecoder(strings.NewReader(doc)).RawToken()
		v, refused := declRefused(err)
		if refused != (c.quoted > 0) || len(v) != c.quoted {
			t.Errorf("%s: encoding/xml says %v, the case %d bytes quoted", doc, err, c.quoted)
		}
	}
}
