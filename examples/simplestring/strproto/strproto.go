package strproto

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/netmessage-go/netmessage/base"
)

// Terminator is the byte that ends every packet, and alone is a heartbeat.
const Terminator byte = 0x04

// Errors, for errors.Is. Append refuses payloads the protocol cannot
// carry; Decode also reports a packet over the limit with
// base.ErrPacketTooLarge.
var (
	// ErrTerminator is returned by Append for a payload that contains the
	// terminator byte 0x04, which would end the packet early.
	ErrTerminator = errors.New("strproto: payload contains the terminator byte 0x04")

	// ErrInvalidUTF8 is returned by Append and Decode for a payload that is
	// not valid UTF-8.
	ErrInvalidUTF8 = errors.New("strproto: payload is not valid UTF-8")

	// ErrMalformed is returned by Decode for bytes that are no packet of
	// this protocol: an unknown type byte or a malformed request id.
	ErrMalformed = errors.New("strproto: malformed packet")
)

// Protocol is the state of one connection. Its zero value is ready to use;
// it must not be shared between connections.
type Protocol struct {
	// scanned counts the bytes at the start of the buffer already searched
	// for the terminator, so that a packet arriving in many reads is
	// scanned once. base hands Decode the same unconsumed bytes again, with
	// more appended, after a call that returned n == 0.
	scanned int
}

// New returns a Protocol for one connection, as a base.Protocol.
func New() base.Protocol { return &Protocol{} }

// Preface returns nil: the protocol has no preface.
func (p *Protocol) Preface() []byte { return nil }

var heartbeat = []byte{Terminator}

// Heartbeat returns the heartbeat: a lone terminator. The caller must not
// modify it.
func (p *Protocol) Heartbeat() []byte { return heartbeat }

// Append appends the encoding of pkt to dst. It refuses a payload that
// contains the terminator (ErrTerminator) or is not valid UTF-8
// (ErrInvalidUTF8), and then returns dst unchanged.
func (p *Protocol) Append(dst []byte, pkt base.Packet) ([]byte, error) {
	if i := bytes.IndexByte(pkt.Payload, Terminator); i >= 0 {
		return dst, fmt.Errorf("%w (at byte %d of %d)", ErrTerminator, i, len(pkt.Payload))
	}
	if !utf8.Valid(pkt.Payload) {
		return dst, fmt.Errorf("%w (bad byte at %d of %d)", ErrInvalidUTF8, invalidAt(pkt.Payload), len(pkt.Payload))
	}
	var out []byte
	switch pkt.Kind {
	case base.KindMessage:
		out = append(dst, 'M')
	case base.KindRequest:
		out = append(strconv.AppendUint(append(dst, 'Q'), uint64(pkt.ID), 10), ':')
	case base.KindResponse:
		out = append(strconv.AppendUint(append(dst, 'R'), uint64(pkt.ID), 10), ':')
	default:
		return dst, fmt.Errorf("strproto: cannot encode packet kind %s", pkt.Kind)
	}
	out = append(out, pkt.Payload...)
	return append(out, Terminator), nil
}

// Decode decodes the first packet in buf; see base.Protocol. A heartbeat
// is returned with Kind base.KindNone. Decode fails as soon as buf cannot
// begin a valid packet: an unknown type byte or a malformed id
// (ErrMalformed), or more than limit payload bytes without a terminator
// (base.ErrPacketTooLarge). Invalid UTF-8 (ErrInvalidUTF8) is reported
// when the packet's terminator arrives. The payload is a slice of buf.
func (p *Protocol) Decode(buf []byte, limit int) (base.Packet, int, error) {
	pkt, hlen, err := decodeHeader(buf)
	if err != nil || hlen == 0 {
		p.scanned = 0
		return base.Packet{}, 0, err
	}
	if pkt.Kind == base.KindNone {
		p.scanned = 0
		return pkt, 1, nil
	}
	start := max(hlen, p.scanned)
	if start > len(buf) {
		start = hlen // not the bytes we saw last time: scan them all
	}
	i := bytes.IndexByte(buf[start:], Terminator)
	if i < 0 {
		if len(buf)-hlen > limit {
			p.scanned = 0
			return base.Packet{}, 0, fmt.Errorf("%w: %s with %d payload bytes and no terminator yet, limit %d",
				base.ErrPacketTooLarge, pkt.Kind, len(buf)-hlen, limit)
		}
		p.scanned = len(buf)
		return base.Packet{}, 0, nil
	}
	p.scanned = 0
	end := start + i
	payload := buf[hlen:end:end]
	if len(payload) > limit {
		return base.Packet{}, 0, fmt.Errorf("%w: %s of %d bytes, limit %d", base.ErrPacketTooLarge, pkt.Kind, len(payload), limit)
	}
	if !utf8.Valid(payload) {
		return base.Packet{}, 0, fmt.Errorf("%w: %s of %d bytes, bad byte at %d", ErrInvalidUTF8, pkt.Kind, len(payload), invalidAt(payload))
	}
	pkt.Payload = payload
	return pkt, end + 1, nil
}

// decodeHeader reads the packet type and, for requests and responses, the
// id and ':'. It returns the header's length, or 0 when buf ends inside a
// header that may still turn out valid. A heartbeat is a header of length
// 1 with Kind base.KindNone.
func decodeHeader(buf []byte) (base.Packet, int, error) {
	if len(buf) == 0 {
		return base.Packet{}, 0, nil
	}
	var pkt base.Packet
	switch buf[0] {
	case Terminator:
		return pkt, 1, nil
	case 'M':
		pkt.Kind = base.KindMessage
		return pkt, 1, nil
	case 'Q':
		pkt.Kind = base.KindRequest
	case 'R':
		pkt.Kind = base.KindResponse
	default:
		return pkt, 0, fmt.Errorf("%w: unknown packet type %q", ErrMalformed, buf[0])
	}
	var id uint64
	for i := 1; i < len(buf); i++ {
		c := buf[i]
		switch {
		case c == ':' && i == 1:
			return pkt, 0, fmt.Errorf("%w: %s without an id", ErrMalformed, pkt.Kind)
		case c == ':':
			pkt.ID = uint32(id)
			return pkt, i + 1, nil
		case c < '0' || c > '9':
			return pkt, 0, fmt.Errorf("%w: %s id %q: want decimal digits and ':'", ErrMalformed, pkt.Kind, buf[1:i+1])
		case i == 2 && buf[1] == '0':
			return pkt, 0, fmt.Errorf("%w: %s id %q has a leading zero", ErrMalformed, pkt.Kind, buf[1:i+1])
		}
		id = id*10 + uint64(c-'0')
		if id > 1<<32-1 {
			return pkt, 0, fmt.Errorf("%w: %s id %s... over 4294967295", ErrMalformed, pkt.Kind, buf[1:i+1])
		}
	}
	return pkt, 0, nil
}

// invalidAt returns the offset of the first byte of b that is not valid
// UTF-8, or -1.
func invalidAt(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}
