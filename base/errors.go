package base

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors, for errors.Is.
var (
	// ErrClosed is reported by calls on a connection that is closed or
	// closing. A *CloseError with the reason matches it too.
	ErrClosed = errors.New("netmessage: connection closed")

	// ErrServerClosed is returned by Server.Serve after Close or Shutdown.
	ErrServerClosed = errors.New("netmessage: server closed")

	// ErrNotConnected is returned by a Client that has no open connection:
	// before the first Connect, after its connection closed, and while it
	// reconnects. After a connection closed, the error also matches that
	// connection's *CloseError (errors.As), its CloseReason and ErrClosed.
	ErrNotConnected = errors.New("netmessage: client not connected")

	// ErrAlreadyConnected is returned by Client.Connect while the client is
	// connected or connecting.
	ErrAlreadyConnected = errors.New("netmessage: client already connected")

	// ErrConnectStopped is returned by Client.Connect when Close or
	// Disconnect was called while it was connecting.
	ErrConnectStopped = errors.New("netmessage: connect stopped by Close or Disconnect")

	// ErrPacketTooLarge is returned for a payload over the maximum packet
	// size. Received, it closes the connection with ReasonProtocolError.
	ErrPacketTooLarge = errors.New("netmessage: packet too large")

	// ErrInflightLimit is the error of a session closed (with
	// ReasonConnectionLost) because the server's bound on bytes held for
	// input (WithMaxInflightBytes) left no room for its partly received
	// packet within its receive timeout.
	ErrInflightLimit = errors.New("netmessage: server's in-flight byte limit reached")

	// ErrWriteBufferFull is returned by Session.TrySendMessage while the
	// write buffer is full (see WithMaxWriteBuffer).
	ErrWriteBufferFull = errors.New("netmessage: write buffer full")

	// ErrUnknownResponse closes a connection whose peer answered a request
	// id that was never sent or was already answered (with
	// WithSkipUnknownResponses it is an error event instead).
	ErrUnknownResponse = errors.New("netmessage: response for unknown request id")

	// ErrRequestTimeout is returned when no response arrives within the
	// response timeout. It satisfies net.Error with Timeout() == true and
	// matches context.DeadlineExceeded.
	ErrRequestTimeout error = timeoutError{}

	// ErrNoHandler is reported as an error event when a request arrives and
	// no request hook is set (the request is not answered), or a message
	// arrives and no message hook is set (the message is dropped).
	ErrNoHandler = errors.New("netmessage: no request handler")
)

type timeoutError struct{}

func (timeoutError) Error() string   { return "netmessage: request timed out" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
func (timeoutError) Is(target error) bool {
	return target == context.DeadlineExceeded
}

// CloseReason says why a connection closed. A CloseReason is also an error,
// so errors.Is(err, base.ReasonConnectionLost) tells whether a failed call
// failed because the connection was lost.
type CloseReason int

// The close reasons.
const (
	// ReasonGraceful: a graceful disconnect handshake completed, started by
	// either end (for the peer, its end of the stream arrived).
	ReasonGraceful CloseReason = iota + 1
	// ReasonDisconnectTimeout: this end started a graceful disconnect and the
	// peer did not finish it within the disconnect timeout.
	ReasonDisconnectTimeout
	// ReasonConnectionLost: nothing was received within the receive timeout.
	ReasonConnectionLost
	// ReasonNetworkError: a read or write failed or timed out; the
	// *CloseError carries the underlying error.
	ReasonNetworkError
	// ReasonClosedLocally: Close was called on this end.
	ReasonClosedLocally
	// ReasonAcceptError: the server could not accept or set up a connection.
	ReasonAcceptError
	// ReasonProtocolError: the peer sent bytes the protocol rejects (garbage,
	// a packet over the size limit, a response to an unknown id).
	ReasonProtocolError
	// ReasonServerShutdown: the server was closed with Server.Close, or its
	// Shutdown context ended before the session finished disconnecting.
	ReasonServerShutdown
)

var reasonNames = [...]string{
	ReasonGraceful:          "graceful shutdown",
	ReasonDisconnectTimeout: "disconnect timeout",
	ReasonConnectionLost:    "connection lost",
	ReasonNetworkError:      "network error",
	ReasonClosedLocally:     "closed locally",
	ReasonAcceptError:       "accept error",
	ReasonProtocolError:     "protocol error",
	ReasonServerShutdown:    "server shutdown",
}

// String returns the reason in words, such as "connection lost".
func (r CloseReason) String() string {
	if r > 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("CloseReason(%d)", int(r))
}

// Error returns the reason prefixed with "netmessage: ".
func (r CloseReason) Error() string { return "netmessage: " + r.String() }

// CloseError is the error of a closed connection: why it closed and, where
// there is one, the error that caused it. Calls that fail because the
// connection closed return it; it matches ErrClosed and its Reason with
// errors.Is, and unwraps to Err.
type CloseError struct {
	// Reason is why the connection closed.
	Reason CloseReason
	// Err is the error that caused the close, or nil when there is none.
	Err error
}

// Error describes the reason and cause.
func (e *CloseError) Error() string {
	if e.Err == nil {
		return "netmessage: connection closed: " + e.Reason.String()
	}
	return "netmessage: connection closed: " + e.Reason.String() + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *CloseError) Unwrap() error { return e.Err }

// Is reports whether target is ErrClosed or e's reason.
func (e *CloseError) Is(target error) bool {
	if target == ErrClosed {
		return true
	}
	r, ok := target.(CloseReason)
	return ok && r == e.Reason
}

// notConnectedError is the error of a Client whose connection closed.
type notConnectedError struct {
	last         *CloseError
	reconnecting bool
}

func (e *notConnectedError) Error() string {
	state := "client not connected: "
	if e.reconnecting {
		state = "client not connected, reconnecting: "
	}
	return "netmessage: " + state + strings.TrimPrefix(e.last.Error(), "netmessage: ")
}

// Is reports whether target is ErrNotConnected; Unwrap leads to the close
// error and its reason.
func (e *notConnectedError) Is(target error) bool { return target == ErrNotConnected }

func (e *notConnectedError) Unwrap() error { return e.last }

// PanicError is reported as an error event when a hook or handler panics,
// or a Protocol's Append does (then wrapped in the send's error); the
// connection lives on. A panic in a Protocol's Decode closes the
// connection with ReasonProtocolError and this error.
type PanicError struct {
	Value any    // the value passed to panic
	Stack []byte // the stack of the panicking goroutine
}

// Error describes the panic.
func (e *PanicError) Error() string { return fmt.Sprintf("netmessage: panic: %v", e.Value) }
