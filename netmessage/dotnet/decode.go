package dotnet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/netmessage-go/netmessage/base"
)

const (
	// maxShrink bounds how many bytes shorter a typed payload can be than
	// its packet's text: a prefix, two ':' and an 11-character id replaced
	// by at least a one-byte length (and a status byte for a response).
	maxShrink = 1 + 2 + 11
	// maxKeptOut is the largest decode buffer kept for the next packet.
	maxKeptOut = 64 << 10
)

// Decode decodes the first packet in buf, translated into the typed
// layer's layout; a lone terminator is a heartbeat (KindNone). The returned
// Payload is the Protocol's own buffer, valid until the next call. A
// packet that must decode to more than limit bytes fails with
// base.ErrPacketTooLarge as soon as its bytes show it, terminator or not.
// A malformed packet fails with ErrMalformed, and n then counts its bytes
// with their terminator, so the session skips them and goes on; see
// docs/dotnet-interop.md ("Malformed packets").
func (p *Protocol) Decode(buf []byte, limit int) (base.Packet, int, error) {
	if p.scanned > len(buf) {
		p.scanned = 0 // not the buffer of the last call: search it all
	}
	i := bytes.IndexByte(buf[p.scanned:], Terminator)
	if i < 0 {
		p.scanned = len(buf)
		if len(buf)-maxShrink > limit {
			p.scanned = 0
			return base.Packet{}, 0, fmt.Errorf("%w: %d bytes without a terminator, limit %d", base.ErrPacketTooLarge, len(buf), limit)
		}
		return base.Packet{}, 0, nil
	}
	end := p.scanned + i
	p.scanned = 0
	if end == 0 {
		return base.Packet{}, 1, nil // heartbeat
	}
	pkt, err := p.parse(buf[:end], limit)
	if errors.Is(err, ErrMalformed) {
		return base.Packet{}, end + 1, err
	}
	if err != nil {
		return base.Packet{}, 0, err
	}
	return pkt, end + 1, nil
}

// parse translates one packet's text, without its terminator, into the
// typed layout: uvarint(len(typeID)) typeID body, after a 0 status byte
// for a response.
func (p *Protocol) parse(text []byte, limit int) (base.Packet, error) {
	if len(text)-maxShrink > limit {
		// Too large whatever its form, as Decode judges a packet still
		// without its terminator: the outcome must not depend on how the
		// stream was cut into reads.
		return base.Packet{}, fmt.Errorf("%w: %d bytes, limit %d", base.ErrPacketTooLarge, len(text), limit)
	}
	pkt := base.Packet{Kind: base.KindMessage}
	rest := text
	switch text[0] {
	case '>':
		pkt.Kind, rest = base.KindRequest, text[1:]
	case '<':
		pkt.Kind, rest = base.KindResponse, text[1:]
	}
	c := bytes.IndexByte(rest, ':')
	if c < 0 {
		return pkt, malformed(text, "no ':' after the type id")
	}
	typeID, rest := rest[:c], rest[c+1:]
	if err := checkTypeID(typeID); err != nil {
		return pkt, malformed(text, "%v", err)
	}
	c = bytes.IndexByte(rest, ':')
	if c < 0 {
		return pkt, malformed(text, "no ':' after the id field")
	}
	idText, body := rest[:c], rest[c+1:]
	if pkt.Kind == base.KindMessage {
		if len(idText) != 0 {
			return pkt, malformed(text, "a message with id %q", idText)
		}
	} else {
		id, ok := parseID(idText)
		if !ok {
			return pkt, malformed(text, "bad %s id %q", pkt.Kind, idText)
		}
		pkt.ID = id
	}
	if !utf8.Valid(text) {
		return pkt, malformed(text, "invalid UTF-8")
	}
	size := uvarintLen(len(typeID)) + len(typeID) + len(body)
	if pkt.Kind == base.KindResponse {
		size++
	}
	if size > limit {
		return pkt, fmt.Errorf("%w: %s of %d bytes, limit %d", base.ErrPacketTooLarge, pkt.Kind, size, limit)
	}
	out := p.buffer(size)
	if pkt.Kind == base.KindResponse {
		out = append(out, 0)
	}
	out = binary.AppendUvarint(out, uint64(len(typeID)))
	out = append(append(out, typeID...), body...)
	pkt.Payload = out
	return pkt, nil
}

// buffer returns an empty slice with room for n bytes, reusing the last
// packet's buffer unless it is too small or n is large.
func (p *Protocol) buffer(n int) []byte {
	if n > maxKeptOut {
		return make([]byte, 0, n)
	}
	if cap(p.out) < n {
		p.out = make([]byte, 0, max(n, 512))
	}
	return p.out[:0]
}

// parseID parses a request id as .NET writes an int: "0", or an optional
// '-' and digits without a leading zero, in the int32 range. Negative ids
// (from a wrapped .NET counter) map to uint32 by two's complement.
func parseID(b []byte) (uint32, bool) {
	s := string(b)
	digits := s
	if len(s) > 0 && s[0] == '-' {
		digits = s[1:]
	}
	if digits == "" || digits[0] == '+' || digits[0] == '-' || (digits[0] == '0' && len(s) > 1) {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(int32(n)), true
}

// uvarintLen returns the length of n's uvarint encoding.
func uvarintLen(n int) int {
	k := 1
	for ; n >= 0x80; n >>= 7 {
		k++
	}
	return k
}
