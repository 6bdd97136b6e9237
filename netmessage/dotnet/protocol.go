package dotnet

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
)

// Terminator ends every packet of the .NET protocol; alone, it is a
// heartbeat.
const Terminator = 0x04

// Protocol is the .NET NetMessage TypedProtocol for one connection. It
// translates between the wire text and the typed layer's payload layout,
// so it works under package netmessage only (see Compat), not with raw
// base payloads.
type Protocol struct {
	scanned int    // bytes of the current packet searched for the terminator
	out     []byte // decoded payloads, reused from packet to packet
}

// New returns a Protocol for one connection. Pass New itself to
// netmessage.WithProtocol (Compat does).
func New() base.Protocol { return &Protocol{} }

// Preface returns nil: the .NET protocol has no preface.
func (p *Protocol) Preface() []byte { return nil }

var heartbeat = []byte{Terminator}

// Heartbeat returns a lone terminator, the .NET heartbeat.
func (p *Protocol) Heartbeat() []byte { return heartbeat }

// Append appends the wire text of pkt to dst: "TypeId::body", ">TypeId:Id:body"
// or "<TypeId:Id:body", then the terminator. pkt.Payload is in the typed
// layer's layout. It fails with ErrErrorResponse for a failure response,
// ErrTerminator for a body containing the terminator, and ErrUnencodable
// for anything else .NET could not read.
func (p *Protocol) Append(dst []byte, pkt base.Packet) ([]byte, error) {
	payload := pkt.Payload
	var prefix byte
	switch pkt.Kind {
	case base.KindMessage:
	case base.KindRequest:
		prefix = '>'
	case base.KindResponse:
		if len(payload) == 0 {
			return dst, fmt.Errorf("%w: empty response payload", ErrUnencodable)
		}
		if status := payload[0]; status != 0 {
			return dst, failure(pkt.ID, status, payload[1:])
		}
		prefix, payload = '<', payload[1:]
	default:
		return dst, fmt.Errorf("%w: packet kind %s", ErrUnencodable, pkt.Kind)
	}
	n, k := binary.Uvarint(payload)
	if k <= 0 || n > uint64(len(payload)-k) {
		return dst, fmt.Errorf("%w: payload has no typed layer header", ErrUnencodable)
	}
	typeID, body := payload[k:k+int(n)], payload[k+int(n):]
	if err := checkTypeID(typeID); err != nil {
		return dst, fmt.Errorf("%w: %w", ErrUnencodable, err)
	}
	if i := bytes.IndexByte(body, Terminator); i >= 0 {
		return dst, fmt.Errorf("%w: %s body, byte offset %d", ErrTerminator, typeID, i)
	}
	if !utf8.Valid(body) {
		return dst, fmt.Errorf("%w: %s body is not valid UTF-8 text (use the dotnetxml serializer)", ErrUnencodable, typeID)
	}
	if prefix != 0 {
		dst = append(dst, prefix)
	}
	dst = append(append(dst, typeID...), ':')
	if pkt.Kind != base.KindMessage {
		// .NET's ids are ints: Go's uint32 ids past 2^31-1 are written as
		// the negative ints .NET's counter wraps to.
		dst = strconv.AppendInt(dst, int64(int32(pkt.ID)), 10)
	}
	dst = append(append(dst, ':'), body...)
	return append(dst, Terminator), nil
}

// failure describes a failure response that cannot be sent.
func failure(id uint32, status byte, text []byte) error {
	// The typed layer's response status: 0 is success, any other is the
	// failure's netmessage.ErrorCode.
	name := netmessage.ErrorCode(status).String()
	if strings.HasPrefix(name, "ErrorCode(") {
		name = "status " + strconv.Itoa(int(status))
	}
	return fmt.Errorf("%w: response to request %d not sent (%s: %s); the .NET caller will time out", ErrErrorResponse, int32(id), name, text)
}

// checkTypeID reports whether id can be a type id on the wire: not empty,
// no ':' (the separator), not starting with '<' or '>' (the packet kinds),
// valid UTF-8.
func checkTypeID(id []byte) error {
	switch {
	case len(id) == 0:
		return fmt.Errorf("empty type id")
	case id[0] == '<' || id[0] == '>':
		return fmt.Errorf("type id %q starts with %q", id, id[0])
	case bytes.IndexByte(id, ':') >= 0:
		return fmt.Errorf("type id %q contains ':'", id)
	case bytes.IndexByte(id, Terminator) >= 0 || !utf8.Valid(id):
		return fmt.Errorf("type id %q is not valid text", id)
	}
	return nil
}
