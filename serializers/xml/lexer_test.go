package xml

import (
	"bytes"
	stdxml "encoding/xml"
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
