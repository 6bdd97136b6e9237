package native

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/netmessage-go/netmessage/base"
)

// Preface is sent first on every connection: the magic "NMGO" and the
// protocol version.
var preface = [...]byte{'N', 'M', 'G', 'O', Version}

// Version is the protocol version carried in the preface. Version 2 added
// the frames that carry call information (metadata, a request's timeout,
// cancels); a peer of another version is refused with ErrPreface.
const Version = 2

// Frame type bytes.
const (
	typeHeartbeat = 0x00
	typeMessage   = 0x01
	typeRequest   = 0x02
	typeResponse  = 0x03
	// Version 2: a request or message with call information, and a cancel.
	typeRequestInfo = 0x04
	typeMessageInfo = 0x05
	typeCancel      = 0x06
)

// Call information fields, in this order when present.
const (
	fieldTimeout    = 0x01 // uvarint: microseconds
	fieldCancelable = 0x02 // no value
	fieldMetadata   = 0x03 // uvarint count, then count times uvarint length, key, uvarint length, value
)

// ErrPreface is the decode error for a peer that does not start with the
// preface: another protocol, or another version.
var ErrPreface = errors.New("native: bad preface")

// Protocol is the native protocol's state for one connection.
type Protocol struct {
	gotPreface bool
	info       base.CallInfo  // the call information of the packet decoded last
	last       *base.CallInfo // &info, or nil for a packet without
	maxMeta    int            // the most metadata bytes decoded (LimitMetadata); 0: no limit
}

// New returns a Protocol for one connection. Pass New itself to
// base.NewServer and base.NewClient.
func New() base.Protocol { return &Protocol{} }

// Preface returns the bytes that open a connection.
func (p *Protocol) Preface() []byte { return preface[:] }

var heartbeat = []byte{typeHeartbeat}

// Heartbeat returns the one-byte heartbeat frame.
func (p *Protocol) Heartbeat() []byte { return heartbeat }

// CarriesCallInfo reports true: the native protocol carries metadata,
// request timeouts and cancels (base.CallInfoProtocol).
func (p *Protocol) CarriesCallInfo() bool { return true }

// Append appends the frame of pkt to dst.
func (p *Protocol) Append(dst []byte, pkt base.Packet) ([]byte, error) {
	return p.AppendInfo(dst, pkt, nil)
}

// LimitMetadata makes Decode fail a packet with more than n bytes of
// metadata (keys and values, as base.Metadata.Size counts them) as one bad
// packet, before it has decoded more than that (base.MetadataLimiter).
// n <= 0: no limit.
func (p *Protocol) LimitMetadata(n int) { p.maxMeta = n }

// Info returns the call information of the packet Decode returned last,
// or nil (base.CallInfoProtocol). It is valid until the next Decode.
func (p *Protocol) Info() *base.CallInfo { return p.last }

// AppendInfo appends the frame of pkt, with call information in (nil for
// none), to dst (base.CallInfoProtocol).
func (p *Protocol) AppendInfo(dst []byte, pkt base.Packet, in *base.CallInfo) ([]byte, error) {
	if uint64(len(pkt.Payload)) > 0xFFFFFFFF {
		return dst, fmt.Errorf("native: payload of %d bytes over the 4 GiB frame limit", len(pkt.Payload))
	}
	info := in != nil && (in.Meta != nil || (pkt.Kind == base.KindRequest && (in.Timeout > 0 || in.Cancelable)))
	switch {
	case pkt.Kind == base.KindCancel:
		return binary.BigEndian.AppendUint32(append(dst, typeCancel), pkt.ID), nil
	case pkt.Kind == base.KindMessage && !info:
		dst = append(dst, typeMessage)
	case pkt.Kind == base.KindMessage:
		dst = appendInfo(append(dst, typeMessageInfo), in)
	case pkt.Kind == base.KindRequest && !info:
		dst = binary.BigEndian.AppendUint32(append(dst, typeRequest), pkt.ID)
	case pkt.Kind == base.KindRequest:
		dst = appendInfo(binary.BigEndian.AppendUint32(append(dst, typeRequestInfo), pkt.ID), in)
	case pkt.Kind == base.KindResponse:
		dst = binary.BigEndian.AppendUint32(append(dst, typeResponse), pkt.ID)
	default:
		return dst, fmt.Errorf("native: cannot encode packet kind %s", pkt.Kind)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(pkt.Payload)))
	return append(dst, pkt.Payload...), nil
}

// appendInfo appends the call information block of a packet: its length,
// then its fields.
func appendInfo(dst []byte, pkt *base.CallInfo) []byte {
	n := 0
	if pkt.Timeout > 0 {
		n += 1 + uvarintLen(timeoutMicros(pkt.Timeout))
	}
	if pkt.Cancelable {
		n++
	}
	if pkt.Meta != nil {
		n += 1 + uvarintLen(uint64(len(pkt.Meta)))
		for k, v := range pkt.Meta {
			n += uvarintLen(uint64(len(k))) + len(k) + uvarintLen(uint64(len(v))) + len(v)
		}
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	if pkt.Timeout > 0 {
		dst = binary.AppendUvarint(append(dst, fieldTimeout), timeoutMicros(pkt.Timeout))
	}
	if pkt.Cancelable {
		dst = append(dst, fieldCancelable)
	}
	if pkt.Meta != nil {
		dst = binary.AppendUvarint(append(dst, fieldMetadata), uint64(len(pkt.Meta)))
		for _, k := range slices.Sorted(maps.Keys(pkt.Meta)) {
			v := pkt.Meta[k]
			dst = append(binary.AppendUvarint(dst, uint64(len(k))), k...)
			dst = append(binary.AppendUvarint(dst, uint64(len(v))), v...)
		}
	}
	return dst
}

// timeoutMicros returns d in whole microseconds, at least 1.
func timeoutMicros(d time.Duration) uint64 { return uint64(max(d/time.Microsecond, 1)) }

// uvarint is binary.Uvarint that refuses (k < 0) an encoding longer than
// needed, so that each value has one encoding.
func uvarint(b []byte) (uint64, int) {
	v, k := binary.Uvarint(b)
	if k > 0 && k != uvarintLen(v) {
		return 0, -1
	}
	return v, k
}

func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// Decode decodes the first frame in buf.
func (p *Protocol) Decode(buf []byte, limit int) (base.Packet, int, error) {
	if !p.gotPreface {
		return p.decodePreface(buf)
	}
	p.last = nil
	if len(buf) == 0 {
		return base.Packet{}, 0, nil
	}
	var (
		kind base.Kind
		id   uint32
	)
	pos := 1
	switch buf[0] {
	case typeHeartbeat:
		return base.Packet{}, 1, nil
	case typeMessage, typeMessageInfo:
		kind = base.KindMessage
	case typeRequest, typeRequestInfo, typeResponse, typeCancel:
		if len(buf) < 5 {
			return base.Packet{}, 0, nil
		}
		kind, id, pos = base.KindRequest, binary.BigEndian.Uint32(buf[1:5]), 5
		switch buf[0] {
		case typeResponse:
			kind = base.KindResponse
		case typeCancel:
			return base.Packet{Kind: base.KindCancel, ID: id}, 5, nil
		}
	default:
		return base.Packet{}, 0, fmt.Errorf("native: unknown frame type 0x%02x", buf[0])
	}
	var info []byte
	hasInfo := buf[0] == typeRequestInfo || buf[0] == typeMessageInfo
	if hasInfo {
		n, k := uvarint(buf[pos:])
		switch {
		case k == 0:
			return base.Packet{}, 0, nil
		case k < 0 || n > uint64(limit):
			return base.Packet{}, 0, fmt.Errorf("native: call information of %d bytes, limit %d", n, limit)
		}
		pos += k
		if uint64(len(buf)-pos) < n {
			return base.Packet{}, 0, nil
		}
		info, pos = buf[pos:pos+int(n)], pos+int(n)
	}
	if len(buf) < pos+4 {
		return base.Packet{}, 0, nil
	}
	n := binary.BigEndian.Uint32(buf[pos : pos+4])
	pos += 4
	if uint64(n) > uint64(limit) {
		return base.Packet{}, 0, fmt.Errorf("%w: frame declares %d bytes, limit %d", base.ErrPacketTooLarge, n, limit)
	}
	end := pos + int(n)
	if len(buf) < end {
		return base.Packet{}, 0, nil
	}
	if !hasInfo {
		return base.Packet{Kind: kind, ID: id, Payload: buf[pos:end:end]}, end, nil
	}
	err := errEmptyInfo // a frame without call information is a plain one
	if len(info) > 0 {
		p.info = base.CallInfo{}
		err = decodeInfo(info, kind, &p.info, p.maxMeta)
	}
	if err != nil {
		// The frame is whole: drop it alone.
		if kind == base.KindRequest {
			return base.Packet{}, end, fmt.Errorf("native: request %d dropped: %w", id, err)
		}
		return base.Packet{}, end, fmt.Errorf("native: %s dropped: %w", kind, err)
	}
	p.last = &p.info
	return base.Packet{Kind: kind, ID: id, Payload: buf[pos:end:end]}, end, nil
}

var errEmptyInfo = errors.New("empty call information")

// decodeInfo decodes the call information block of a packet of the given
// kind into pkt, failing metadata of more than maxMeta bytes (0: no
// limit).
func decodeInfo(b []byte, kind base.Kind, pkt *base.CallInfo, maxMeta int) error {
	last := 0
	for len(b) > 0 {
		f := int(b[0])
		if f <= last || f > fieldMetadata || (f != fieldMetadata && kind != base.KindRequest) {
			return fmt.Errorf("unexpected call information field 0x%02x", f)
		}
		last, b = f, b[1:]
		switch f {
		case fieldTimeout:
			us, k := uvarint(b)
			if k <= 0 || us == 0 || us > math.MaxInt64/uint64(time.Microsecond) {
				return errors.New("bad timeout")
			}
			pkt.Timeout = time.Duration(us) * time.Microsecond
			b = b[k:]
		case fieldCancelable:
			pkt.Cancelable = true
		case fieldMetadata:
			count, k := uvarint(b)
			if k <= 0 || count > uint64(len(b)) {
				return errors.New("bad metadata count")
			}
			b = b[k:]
			// The count is the peer's word, and a map slot costs many
			// times the two bytes an entry takes at least: past a few,
			// the map grows with the entries actually decoded.
			md := make(base.Metadata, min(count, metadataHint))
			prev, size := "", 0
			for range count {
				var key, val []byte
				var ok bool
				if key, b, ok = lengthPrefixed(b); !ok {
					return errors.New("bad metadata key")
				}
				if val, b, ok = lengthPrefixed(b); !ok {
					return errors.New("bad metadata value")
				}
				if len(md) > 0 && string(key) <= prev {
					return errors.New("metadata keys not in ascending order")
				}
				if size += len(key) + len(val); maxMeta > 0 && size > maxMeta {
					return fmt.Errorf("%w: more than %d bytes", base.ErrMetadata, maxMeta)
				}
				prev = string(key)
				md[prev] = string(val)
			}
			pkt.Meta = md
		}
	}
	return nil
}

// metadataHint bounds the entries a metadata map is made for before they
// are decoded.
const metadataHint = 16

// lengthPrefixed splits b into a uvarint-prefixed field and the rest.
func lengthPrefixed(b []byte) (field, rest []byte, ok bool) {
	n, k := uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
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
