// Package xmldepth lexes an XML document without parsing it, for the
// serializers built on encoding/xml: encoding/xml keeps every open element
// on its stack and recurses for each level it decodes into a Go value
// (about 2 KiB of goroutine stack per level), so nesting must be bounded
// before decoding ([Check]); and it allocates for every token, so what a
// document can cost must be estimated before decoding ([Lexer], whose
// tokens [TokenCost] prices).
package xmldepth

import (
	"bytes"
	"fmt"
)

// Check returns an error if the elements of data nest deeper than limit.
func Check(data []byte, limit int) error {
	if bytes.Count(data, []byte{'<'}) <= limit {
		return nil // each open element needs its own '<'
	}
	if off := Offset(data, limit); off >= 0 {
		return tooDeepError(limit, off)
	}
	return nil
}

// depthError is the error of Check and Scan for a document nested too
// deep.
type depthError struct{ limit, off int }

func (e *depthError) Error() string {
	return fmt.Sprintf("elements nested deeper than %d (at byte offset %d)", e.limit, e.off)
}

// Offset returns the offset of the first element of data nested deeper
// than limit (an empty element counts too), or -1. It lexes markup the way
// encoding/xml does (comments, CDATA sections, processing instructions,
// directives, quoted attribute values), so on any input that encoding/xml
// reads without error up to some point, the depth it sees matches ours up
// to that point. Beyond a syntax error the count does not matter:
// encoding/xml rejects the document anyway.
func Offset(data []byte, limit int) int {
	depth := 0
	for i := 0; i >= 0; {
		j := bytes.IndexByte(data[i:], '<')
		if j < 0 {
			return -1
		}
		start := i + j
		i = start + 1
		switch {
		case i >= len(data):
			return -1
		case data[i] == '/': // end tag: a name, spaces, '>'
			depth--
			i = skipPast(data, i, ">")
		case data[i] == '?': // processing instruction
			i = skipPast(data, i+1, "?>")
		case bytes.HasPrefix(data[i:], []byte("!--")): // comment
			i = skipPast(data, i+3, "-->")
		case bytes.HasPrefix(data[i:], []byte("![CDATA[")):
			i = skipPast(data, i+8, "]]>")
		case data[i] == '!':
			i = skipDirective(data, i+2) // encoding/xml takes the byte after "<!" as is
		default:
			if depth+1 > limit {
				return start
			}
			var empty bool
			if i, empty = skipStartTag(data, i); !empty {
				depth++
			}
		}
	}
	return -1 // unterminated markup: encoding/xml reports it
}

// skipPast returns the index after the first end at or after i, or -1.
func skipPast(data []byte, i int, end string) int {
	if i > len(data) {
		return -1
	}
	j := bytes.Index(data[i:], []byte(end))
	if j < 0 {
		return -1
	}
	return i + j + len(end)
}

// skipStartTag returns the index after the '>' that ends the start tag
// whose name begins at i, and whether the tag is self-closing ("/>").
// Quoted attribute values may contain '>' and '/'.
func skipStartTag(data []byte, i int) (int, bool) {
	for ; i < len(data); i++ {
		switch c := data[i]; c {
		case '"', '\'':
			j := bytes.IndexByte(data[i+1:], c)
			if j < 0 {
				return -1, false
			}
			i += 1 + j
		case '>':
			return i + 1, false
		case '/':
			if i+1 < len(data) && data[i+1] == '>' {
				return i + 2, true
			}
		}
	}
	return -1, false
}

// skipDirective returns the index after the '>' that ends the directive
// (such as <!DOCTYPE ...>) whose body continues at i, or -1. Like
// encoding/xml, it counts nested '<' and '>' outside quotes, and skips
// comments inside.
func skipDirective(data []byte, i int) int {
	var quote byte
	depth := 0
	for ; i < len(data); i++ {
		c := data[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '>':
			if depth == 0 {
				return i + 1
			}
			depth--
		case c == '<':
			if bytes.HasPrefix(data[i+1:], []byte("!--")) {
				if i = skipPast(data, i+4, "-->"); i < 0 {
					return -1
				}
				i-- // the loop steps past the comment's '>'
				continue
			}
			depth++
		}
	}
	return -1
}
