package dotnetxml

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Guid is a .NET System.Guid. Its bytes are in the order of its text
// form, "0f8fad5b-d9cb-469f-a165-70867728950e" being 0x0f, 0x8f, 0xad, ...
// (RFC 9562 order, not the mixed-endian order of .NET's
// Guid.ToByteArray). Only the text crosses the wire, so the byte order
// matters only to code that builds a Guid from bytes. The zero Guid is
// .NET's Guid.Empty.
type Guid [16]byte

// NewGuid returns a random (version 4) Guid, like .NET's Guid.NewGuid.
func NewGuid() Guid {
	var g Guid
	_, _ = rand.Read(g[:])
	g[6] = g[6]&0x0f | 0x40
	g[8] = g[8]&0x3f | 0x80
	return g
}

// ParseGuid parses a Guid in any of the forms .NET's Guid.Parse accepts
// but the hexadecimal-brace one: "D" (8-4-4-4-12 digits), "N" (32
// digits), "B" ("{D}") and "P" ("(D)"), in either case.
func ParseGuid(s string) (Guid, error) {
	var g Guid
	t := s
	if n := len(t); n == 38 && (t[0] == '{' && t[n-1] == '}' || t[0] == '(' && t[n-1] == ')') {
		t = t[1 : n-1]
	}
	if len(t) == 36 {
		if t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-' {
			return g, fmt.Errorf("invalid Guid %q", s)
		}
		t = t[:8] + t[9:13] + t[14:18] + t[19:23] + t[24:]
	}
	if len(t) != 32 {
		return g, fmt.Errorf("invalid Guid %q", s)
	}
	if _, err := hex.Decode(g[:], []byte(t)); err != nil {
		return Guid{}, fmt.Errorf("invalid Guid %q", s)
	}
	return g, nil
}

// String returns the Guid in .NET's default "D" form, in lower case.
func (g Guid) String() string {
	b, _ := g.MarshalText()
	return string(b)
}

// MarshalText returns the "D" form.
func (g Guid) MarshalText() ([]byte, error) {
	b := make([]byte, 36)
	hex.Encode(b, g[:4])
	b[8] = '-'
	hex.Encode(b[9:], g[4:6])
	b[13] = '-'
	hex.Encode(b[14:], g[6:8])
	b[18] = '-'
	hex.Encode(b[19:], g[8:10])
	b[23] = '-'
	hex.Encode(b[24:], g[10:])
	return b, nil
}

// UnmarshalText parses the forms ParseGuid accepts, around which XML
// white space is ignored.
func (g *Guid) UnmarshalText(b []byte) error {
	if g == nil {
		return errors.New("dotnetxml: UnmarshalText on a nil *Guid")
	}
	v, err := ParseGuid(strings.Trim(string(b), xmlSpace))
	if err != nil {
		return err
	}
	*g = v
	return nil
}
