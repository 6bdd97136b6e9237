package netmessage

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestFailureTextBounded: a failure answer's text is valid UTF-8 and at
// most maxFailureText bytes, whatever the error quoted.
func TestFailureTextBounded(t *testing.T) {
	for name, text := range map[string]string{
		"short, invalid":      "a\xffb",
		"long, invalid":       strings.Repeat("\xff", 3*maxFailureText),
		"long, multi-byte":    strings.Repeat("€", maxFailureText),
		"long, mixed":         strings.Repeat("x€\xfe😀", maxFailureText/4),
		"just over the limit": strings.Repeat("é", maxFailureText/2+1),
	} {
		got := encodeFailure(statusError, text)[1:]
		if len(got) > maxFailureText || !utf8.Valid(got) {
			t.Errorf("%s: %d bytes, valid UTF-8 %v; want at most %d valid", name, len(got), utf8.Valid(got), maxFailureText)
		}
		if clean := strings.ToValidUTF8(text, "\uFFFD"); len(clean) <= maxFailureText && string(got) != clean {
			t.Errorf("%s: %q, want %q", name, got, clean)
		}
	}
}
