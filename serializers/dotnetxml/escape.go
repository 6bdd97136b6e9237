package dotnetxml

import (
	"fmt"
	"unicode/utf8"
)

// appendEscaped appends s as element text the way .NET's XmlWriter writes
// it: '&', '<' and '>' as entities, '\r' as a character reference (so that
// an XML reader's line-end normalization keeps it), everything else as is,
// quotes, apostrophes and tabs included. Characters XML 1.0 does not allow
// (most C0 controls such as the 0x04 terminator, U+FFFE, U+FFFF) and
// invalid UTF-8 are an error: .NET could not read them back.
func appendEscaped(dst []byte, s string) ([]byte, error) {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return dst, fmt.Errorf("invalid UTF-8 at byte offset %d", i)
			}
			if r == 0xFFFE || r == 0xFFFF {
				return dst, fmt.Errorf("character %U at byte offset %d is not allowed in XML 1.0", r, i)
			}
			i += size
			continue
		}
		var esc string
		switch c {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\r':
			esc = "&#xD;"
		case '\t', '\n':
		default:
			if c < 0x20 {
				return dst, fmt.Errorf("character %U at byte offset %d is not allowed in XML 1.0", rune(c), i)
			}
		}
		i++
		if esc != "" {
			dst = append(append(dst, s[start:i-1]...), esc...)
			start = i
		}
	}
	return append(dst, s[start:]...), nil
}
