package cluster

import (
	"errors"
	"fmt"
)

// Sentinel errors, for errors.Is.
var (
	// ErrClosed is returned by calls on a Node after Close.
	ErrClosed = errors.New("cluster: node closed")

	// ErrUnavailable is returned when the NATS connection is not connected
	// (NATS down, or reconnecting): what needs another server was not sent.
	// Sessions of this server were still served.
	ErrUnavailable = errors.New("cluster: NATS connection unavailable")

	// ErrNoKey is returned by Request when no session of any server is
	// bound to the key, or when the session asked closed before it
	// answered.
	ErrNoKey = errors.New("cluster: no session bound to the key")

	// ErrBadName is returned for an empty key or group name, or one longer
	// than MaxKeyLen bytes.
	ErrBadName = errors.New("cluster: bad key or group name")

	// ErrBadOption is returned by New for an option with an invalid value.
	ErrBadOption = errors.New("cluster: bad option")

	// ErrMalformed is the error of a packet on the cluster's subjects that
	// cannot be parsed (raised as an error event inside a *PacketError), or
	// of a remote answer that does not decode.
	ErrMalformed = errors.New("cluster: malformed packet")

	// ErrTooLarge is the error of a packet larger than the maximum packet
	// size (see WithMaxPacketSize) or the NATS server's max_payload:
	// refused on send, dropped with an error event on receipt.
	ErrTooLarge = errors.New("cluster: packet too large")
)

// PacketError is the error event for a packet received on subject that
// was dropped: malformed, too large, or not deliverable to a session.
type PacketError struct {
	// Subject is the NATS subject the packet arrived on.
	Subject string
	// Err is why the packet was dropped, such as ErrMalformed.
	Err error
}

// Error describes the dropped packet.
func (e *PacketError) Error() string { return fmt.Sprintf("cluster: %s: %v", e.Subject, e.Err) }

// Unwrap returns the cause.
func (e *PacketError) Unwrap() error { return e.Err }
