package base

import (
	"strconv"
	"time"
)

// Kind says what a Packet is.
type Kind uint8

// The packet kinds. KindNone marks bytes a Protocol consumed that carry no
// packet, such as a heartbeat or a connection preface.
const (
	KindNone     Kind = iota // no packet
	KindMessage              // a one-way message
	KindRequest              // a request, answered by a response with its ID
	KindResponse             // the response to the request with its ID
	// KindCancel tells the peer that the caller of request ID gave up, so
	// its handler's context ends. Only a CallInfoProtocol carries it.
	KindCancel
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindNone:
		return "none"
	case KindMessage:
		return "message"
	case KindRequest:
		return "request"
	case KindResponse:
		return "response"
	case KindCancel:
		return "cancel"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Packet is one unit on the wire: a one-way message, a request with its id,
// or the response to the request with that id. What a call carries beside
// its payload (metadata, deadline, cancel) is in CallInfo, which only a
// CallInfoProtocol carries.
//
// A decoded Packet's Payload is memory owned by the connection or by its
// Protocol (the read buffer, or a buffer the Protocol reuses): it is valid
// only until the next call to Decode.
type Packet struct {
	// Kind says what the packet is.
	Kind Kind
	// ID is the id of a request, or of the request a response answers or
	// a cancel gives up; unused for a message.
	ID uint32
	// Payload is the packet's body, as the layer above encoded it.
	Payload []byte
}

// CallInfo is what a request or a message carries beside its payload over
// a CallInfoProtocol. The zero value means none, and costs nothing on the
// wire.
type CallInfo struct {
	// Meta is the call metadata (requests and messages).
	Meta Metadata
	// Timeout is the time the caller of a request waits for its response,
	// from when it was sent; 0 for no deadline.
	Timeout time.Duration
	// Cancelable says that the caller of a request may cancel it (send a
	// KindCancel packet); requests without it cannot be cancelled.
	Cancelable bool
}

// isZero reports whether i (which may be nil) carries nothing.
func (i *CallInfo) isZero() bool {
	return i == nil || i.Meta == nil && i.Timeout == 0 && !i.Cancelable
}

// meta returns i's metadata; nil for a nil i.
func (i *CallInfo) meta() Metadata {
	if i == nil {
		return nil
	}
	return i.Meta
}

// Protocol is a wire protocol: it frames packets as bytes and back. A
// connection creates its own Protocol with the function given to NewServer or
// NewClient and calls it from at most one goroutine at a time for decoding and
// one, under a lock, for encoding, so an implementation may keep per-connection
// state without locking.
//
// A good implementation allocates nothing per packet: Append appends to dst and
// Decode returns slices of buf.
type Protocol interface {
	// Preface returns the bytes sent first on every connection, or nil.
	Preface() []byte

	// Heartbeat returns the bytes sent as a heartbeat, or nil when the protocol
	// has none (heartbeats are then not sent; any received byte still counts
	// as life).
	Heartbeat() []byte

	// Append appends the encoding of p to dst. p.Kind is KindMessage,
	// KindRequest or KindResponse. Append must leave dst's existing bytes
	// alone; on error the caller discards whatever was appended.
	Append(dst []byte, p Packet) ([]byte, error)

	// Decode decodes the first packet in buf and returns it with the number
	// of bytes it used: n == 0 and a nil error when buf holds no whole packet
	// yet (the caller calls again with the same bytes followed by more), and
	// Kind == KindNone for bytes that carry no packet (a heartbeat, the
	// preface). A payload longer than limit bytes, or malformed input, is an
	// error that closes the connection with ReasonProtocolError; returned
	// with n > 0, it says those n bytes were one bad packet, which the
	// session drops, raising the error as an event, before decoding on. See
	// docs/custom-protocol.md.
	Decode(buf []byte, limit int) (p Packet, n int, err error)
}

// CallInfoProtocol is a Protocol that carries call information
// (CallInfo) and KindCancel packets. Over a Protocol that is not one (or
// whose CarriesCallInfo reports false), a send with metadata fails with
// ErrNoCallInfo, deadlines reach no further than the caller, and a cancel
// is local only.
type CallInfoProtocol interface {
	Protocol
	// CarriesCallInfo reports whether the protocol carries call
	// information (on this connection).
	CarriesCallInfo() bool
	// AppendInfo is Append for a request or message with call
	// information info (not nil).
	AppendInfo(dst []byte, p Packet, info *CallInfo) ([]byte, error)
	// Info returns the call information of the packet Decode returned
	// last, or nil for none. Like the packet's Payload, it is valid only
	// until the next call to Decode.
	Info() *CallInfo
}

// MetadataLimiter is a CallInfoProtocol that bounds the metadata it
// decodes. A session calls LimitMetadata once, before its first Decode,
// with its limit (WithMaxMetadataBytes, in the bytes Metadata.Size
// counts); Decode then fails a packet whose metadata is larger as one bad
// packet (an error with n > 0) as soon as it has read that much, rather
// than build all of it for the session to refuse. A protocol that carries
// metadata should be one: the session checks the limit either way, but
// only after Decode has built the whole map, which a peer can make many
// times larger than its frame.
type MetadataLimiter interface {
	// LimitMetadata sets the most metadata, in bytes, Decode accepts in
	// one packet.
	LimitMetadata(n int)
}

// callInfoOf returns proto as a CallInfoProtocol if it carries call
// information, or nil.
func callInfoOf(proto Protocol) CallInfoProtocol {
	if c, ok := proto.(CallInfoProtocol); ok && c.CarriesCallInfo() {
		return c
	}
	return nil
}
