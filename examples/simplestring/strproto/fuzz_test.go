package strproto_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/examples/simplestring/strproto"
)

// errClass names the sentinel an error matches, so that errors can be
// compared by kind.
func errClass(err error) string {
	for _, s := range []error{strproto.ErrMalformed, strproto.ErrInvalidUTF8, base.ErrPacketTooLarge} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	if err != nil {
		return "other"
	}
	return "nil"
}

// FuzzDecode checks, for any input and limit, that Decode gives the same
// packets and the same kind of error whether the input arrives at once or
// byte by byte; that what it decodes is the canonical encoding of the
// packets (Append reproduces the bytes consumed); and that any input, used
// as a payload, either round-trips or is refused by Append.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		lim := int(limit)
		whole, rest, err := decodeStream([][]byte{data}, lim)
		var bytewise [][]byte
		for c := range slices.Chunk(data, 1) {
			bytewise = append(bytewise, c)
		}
		split, splitRest, splitErr := decodeStream(bytewise, lim)
		// On error the bytes left differ: byte by byte, the rest was never read.
		if !slices.Equal(whole, split) || errClass(err) != errClass(splitErr) || (err == nil && rest != splitRest) {
			t.Fatalf("at once: %v, %d left, %v\nbyte by byte: %v, %d left, %v", whole, rest, err, split, splitRest, splitErr)
		}
		if errClass(err) == "other" {
			t.Fatalf("unexpected error %v", err)
		}

		p := strproto.New()
		var enc []byte
		for _, w := range whole {
			if len(w.Payload) > lim {
				t.Fatalf("decoded %d bytes, over the limit of %d", len(w.Payload), lim)
			}
			if w.Kind == base.KindNone {
				enc = append(enc, p.Heartbeat()...)
				continue
			}
			if enc, err = p.Append(enc, w.packet()); err != nil {
				t.Fatalf("decoded %v, which Append refuses: %v", w, err)
			}
		}
		if !bytes.HasPrefix(data, enc) {
			t.Fatalf("decoded %v from %q, whose encoding %q is not its start", whole, data, enc)
		}

		in := req(uint32(limit)*7919, string(data))
		enc, err = p.Append(nil, in.packet())
		if refuse := bytes.IndexByte(data, strproto.Terminator) >= 0 || !utf8.Valid(data); refuse != (err != nil) {
			t.Fatalf("Append(%q) error = %v", data, err)
		}
		if err != nil {
			return
		}
		out, rest, err := decodeStream([][]byte{enc}, len(data))
		if err != nil || rest != 0 || len(out) != 1 || out[0] != in {
			t.Fatalf("round trip of %v: %v, %d left, %v", in, out, rest, err)
		}
	})
}
