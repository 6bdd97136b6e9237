package xmldepth

import "bytes"

// Kind is the kind of a token Scan reports.
type Kind uint8

// The kinds of token Scan reports, as encoding/xml's Decoder.Token
// returns them.
const (
	Start     Kind = iota // a start tag; a self-closing tag is a Start then an End
	End                   // an end tag, or the end of a self-closing tag
	Text                  // a run of character data, or a CDATA section
	Comment               // <!-- ... -->
	ProcInst              // <? ... ?>
	Directive             // <! ... >, such as a DOCTYPE
)

// Token is a token of the document as Scan sees it, without decoding:
// sizes are of the raw input, which is never shorter than what
// encoding/xml decodes it to.
type Token struct {
	Kind Kind
	// Name is the qualified name of a Start or End (of a self-closing tag:
	// empty, the name is not read again) and Local its part after the
	// prefix, as encoding/xml splits it.
	Name, Local []byte
	// Attrs is, for a Start, an upper bound on its attributes: the quoted
	// values in the tag. AttrBytes is the length of the tag after its
	// name, which holds all attribute names and values.
	Attrs, AttrBytes int
	// Len is the token's length in the input, markup included.
	Len int
	// Off is the token's offset in the input.
	Off int
	// Quoted is, for a ProcInst, the length of the value encoding/xml
	// quotes in its error for an XML declaration it refuses (an
	// unsupported version or encoding), or 0 if it refuses none.
	Quoted int
}

// Lexer returns the tokens of a document, in order, as encoding/xml's
// Decoder.Token would return them, without decoding them. It lexes as
// Offset does, and so reports the same elements as encoding/xml on any
// input that encoding/xml reads without error up to some point; it stops
// at unterminated markup (the rest counts as one long token).
type Lexer struct {
	data    []byte
	limit   int
	depth   int
	i       int
	closing []byte // the local name of a self-closing tag to end next
	close   bool
	tok     Token
	// Longest is the length of the longest token so far: the most
	// encoding/xml's buffer holds at once. LongestName is the length of
	// the longest element name.
	Longest, LongestName int
}

// NewLexer returns a Lexer of data that fails once elements nest deeper
// than limit.
func NewLexer(data []byte, limit int) Lexer {
	return Lexer{data: data, limit: limit}
}

// Next returns the next token, nil at the end of the input, or the error
// of Check if elements nest deeper than the limit. The token is valid
// until the next call.
func (l *Lexer) Next() (*Token, error) {
	data := l.data
	if l.close {
		l.close = false
		l.tok = Token{Kind: End, Off: l.i, Local: l.closing}
		return &l.tok, nil
	}
	if l.i >= len(data) {
		return nil, nil
	}
	i := l.i
	j := bytes.IndexByte(data[i:], '<')
	switch {
	case j < 0:
		return l.emit(Text, i, len(data)), nil
	case j > 0:
		return l.emit(Text, i, i+j), nil
	}
	start := i
	i++
	if i >= len(data) {
		l.Longest = max(l.Longest, 1)
		l.i = len(data)
		return nil, nil
	}
	var end int
	var k Kind
	switch {
	case data[i] == '/':
		l.depth--
		if end, k = skipPast(data, i, ">"), End; end >= 0 {
			t := l.emit(End, start, end)
			t.Name = nameAt(data, i+1)
			t.Local = local(t.Name)
			l.LongestName = max(l.LongestName, len(t.Name))
			return t, nil
		}
	case data[i] == '?':
		end, k = skipPast(data, i+1, "?>"), ProcInst
	case bytes.HasPrefix(data[i:], []byte("!--")):
		end, k = skipPast(data, i+3, "-->"), Comment
	case bytes.HasPrefix(data[i:], []byte("![CDATA[")):
		end, k = skipPast(data, i+8, "]]>"), Text
	case data[i] == '!':
		end, k = skipDirective(data, i+2), Directive
	default:
		if l.depth+1 > l.limit {
			return nil, tooDeepError(l.limit, start)
		}
		var empty bool
		if end, empty = skipStartTag(data, i); end < 0 {
			break
		}
		if !empty {
			l.depth++
		}
		t := l.emit(Start, start, end)
		t.Name = nameAt(data, i)
		t.Local = local(t.Name)
		t.AttrBytes = end - i - len(t.Name)
		t.Attrs = quotes(data[i+len(t.Name) : end])
		l.LongestName = max(l.LongestName, len(t.Name))
		l.close, l.closing = empty, t.Local
		return t, nil
	}
	if end < 0 {
		l.Longest = max(l.Longest, len(data)-start)
		l.i = len(data)
		return nil, nil // unterminated: encoding/xml fails there
	}
	t := l.emit(k, start, end)
	if k == ProcInst {
		t.Quoted = refusedDecl(data[i+1 : end-2])
	}
	return t, nil
}

// refusedDecl returns, for the contents of a processing instruction (after
// "<?", before "?>"), the length of the value encoding/xml quotes when it
// refuses it as an XML declaration: a version other than 1.0, else an
// encoding other than UTF-8 (the serializers give it no CharsetReader).
// It returns 0 for any other instruction and for declarations it takes.
// A target that starts with "xml" and then a byte that may continue a name
// outside ASCII counts as "xml": an overestimate, never an underestimate.
func refusedDecl(pi []byte) int {
	if !bytes.HasPrefix(pi, []byte("xml")) {
		return 0
	}
	if len(pi) > 3 {
		switch c := pi[3]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '.', c == '-', c == '_', c == ':':
			return 0 // another target, such as xml-stylesheet
		}
	}
	// Searching from the target on finds what encoding/xml finds in the
	// contents after it: neither "version=" nor "encoding=" fits in "xml".
	if v, ok := declParam(pi, "version="); ok && string(v) != "1.0" {
		return len(v)
	}
	if e, ok := declParam(pi, "encoding="); ok && !bytes.EqualFold(e, []byte("utf-8")) {
		return len(e)
	}
	return 0
}

// declParam returns the value of the pseudo-attribute name (with its '=')
// in s as encoding/xml reads it: the first occurrence of name directly
// followed by a quote, up to the next such quote; ok is false, as for an
// empty value, when there is none.
func declParam(s []byte, name string) (value []byte, ok bool) {
	for i := 0; ; {
		k := bytes.Index(s[i:], []byte(name))
		if k < 0 || i+k+len(name) >= len(s) {
			return nil, false
		}
		q := s[i+k+len(name)]
		i += k + len(name) + 1
		if q == '"' || q == '\'' {
			j := bytes.IndexByte(s[i:], q)
			if j <= 0 {
				return nil, false
			}
			return s[i : i+j], true
		}
	}
}

// emit returns the token of kind k at data[off:end] and moves past it.
func (l *Lexer) emit(k Kind, off, end int) *Token {
	l.tok = Token{Kind: k, Off: off, Len: end - off}
	l.Longest = max(l.Longest, end-off)
	l.i = end
	return &l.tok
}

// nameAt returns the name that starts at i: the bytes up to a space, '/',
// '>' or '=' (encoding/xml fails on anything else there).
func nameAt(data []byte, i int) []byte {
	j := i
	for j < len(data) {
		switch data[j] {
		case ' ', '\t', '\r', '\n', '/', '>', '=', '"', '\'':
			return data[i:j]
		}
		j++
	}
	return data[i:j]
}

// local returns the part of a qualified name encoding/xml matches fields
// against: after the colon of "prefix:local", else the whole name.
func local(name []byte) []byte {
	if p, l, ok := bytes.Cut(name, []byte{':'}); ok && len(p) > 0 && len(l) > 0 {
		return l
	}
	return name
}

// quotes returns the number of quoted values in a start tag's rest.
func quotes(tag []byte) int {
	n := 0
	for i := 0; i < len(tag); i++ {
		if c := tag[i]; c == '"' || c == '\'' {
			j := bytes.IndexByte(tag[i+1:], c)
			if j < 0 {
				break
			}
			i += 1 + j
			n++
		}
	}
	return n
}

func tooDeepError(limit, off int) error {
	return &depthError{limit, off}
}
