// Package native is the SDK's own wire protocol: length-prefixed binary
// frames after a short preface, safe for any payload bytes. See
// docs/wire-format.md for the format byte by byte.
package native

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/netmessage-go/netmessage/base"
)

// Preface is sent first on every connection: the magic "NMGO" and the
// protocol version.
var preface = [...]byte{'N', 'M', 'G', 'O', Version}

// Version is the protocol version carried in the preface.
const Version = 1

// Frame type bytes.
const (
	typeHeartbeat = 0x00
	typeMessage   = 0x01
	typeRequest   = 0x02
	typeResponse  = 0x03
)

// ErrPreface is the decode error for a peer that does not start with the
// preface: another protocol, or another version.
var ErrPreface = errors.New("native: bad preface")

// Protocol is the native protocol's state for one connection.
type Protocol struct {
	gotPreface bool
}

// New returns a Protocol for one connection. Pass New itself to
// base.NewServer and base.NewClient.
func New() base.Protocol { return &Protocol{} }

// Preface returns the bytes that open a connection.
func (p *Protocol) Preface() []byte { return preface[:] }

var heartbeat = []byte{typeHeartbeat}

// Heartbeat returns the one-byte heartbeat frame.
func (p *Protocol) Heartbeat() []byte { return heartbeat }

// Append appends the frame of pkt to dst.
func (p *Protocol) Append(dst []byte, pkt base.Packet) ([]byte, error) {
	if uint64(len(pkt.Payload)) > 0xFFFFFFFF {
		return dst, fmt.Errorf("native: payload of %d bytes over the 4 GiB frame limit", len(pkt.Payload))
	}
	n := uint32(len(pkt.Payload))
	switch pkt.Kind {
	case base.KindMessage:
		dst = append(dst, typeMessage)
	case base.KindRequest:
		dst = binary.BigEndian.AppendUint32(append(dst, typeRequest), pkt.ID)
	case base.KindResponse:
		dst = binary.BigEndian.AppendUint32(append(dst, typeResponse), pkt.ID)
	default:
		return dst, fmt.Errorf("native: cannot encode packet kind %s", pkt.Kind)
	}
	dst = binary.BigEndian.AppendUint32(dst, n)
	return append(dst, pkt.Payload...), nil
}

// Decode decodes the first frame in buf.
func (p *Protocol) Decode(buf []byte, limit int) (base.Packet, int, error) {
	if !p.gotPreface {
		return p.decodePreface(buf)
	}
	if len(buf) == 0 {
		return base.Packet{}, 0, nil
	}
	var pkt base.Packet
	head := 5
	switch buf[0] {
	case typeHeartbeat:
		return base.Packet{}, 1, nil
	case typeMessage:
		pkt.Kind = base.KindMessage
	case typeRequest:
		pkt.Kind, head = base.KindRequest, 9
	case typeResponse:
		pkt.Kind, head = base.KindResponse, 9
	default:
		return base.Packet{}, 0, fmt.Errorf("native: unknown frame type 0x%02x", buf[0])
	}
	if len(buf) < head {
		return base.Packet{}, 0, nil
	}
	if head == 9 {
		pkt.ID = binary.BigEndian.Uint32(buf[1:5])
	}
	n := binary.BigEndian.Uint32(buf[head-4 : head])
	if uint64(n) > uint64(limit) {
		return base.Packet{}, 0, fmt.Errorf("%w: frame declares %d bytes, limit %d", base.ErrPacketTooLarge, n, limit)
	}
	end := head + int(n)
	if len(buf) < end {
		return base.Packet{}, 0, nil
	}
	pkt.Payload = buf[head:end:end]
	return pkt, end, nil
}

func (p *Protocol) decodePreface(buf []byte) (base.Packet, int, error) {
	k := min(len(buf), len(preface))
	for i := range k {
		if buf[i] != preface[i] {
			if i == len(preface)-1 {
				return base.Packet{}, 0, fmt.Errorf("%w: peer speaks version %d, this end %d", ErrPreface, buf[i], Version)
			}
			if looksLikeTLS(buf) {
				return base.Packet{}, 0, fmt.Errorf("%w: got % x, a TLS record: is one end using TLS and the other not?", ErrPreface, buf[:k])
			}
			return base.Packet{}, 0, fmt.Errorf("%w: got % x, want % x", ErrPreface, buf[:k], preface)
		}
	}
	if k < len(preface) {
		return base.Packet{}, 0, nil
	}
	p.gotPreface = true
	return base.Packet{}, len(preface), nil
}

// looksLikeTLS reports whether buf starts like a TLS record: a handshake
// (a ClientHello or ServerHello) or an alert, with major version 3.
func looksLikeTLS(buf []byte) bool {
	return len(buf) >= 2 && (buf[0] == 0x16 || buf[0] == 0x15) && buf[1] == 0x03
}
