// Package base is the transport of NetMessage for Go: it moves packets
// (one-way messages, requests and their responses) over a net.Conn and
// knows bytes, not Go types.
//
// A Protocol frames packets on the wire; package native holds the SDK's own
// protocol, and any other (a text protocol, a compatibility protocol) plugs
// in the same way. A Server serves a net.Listener and opens a Session per
// accepted connection; a Client connects to one server. Both ends can send
// messages and requests. What a session receives goes to its Handler
// (WithHandler), the layer above as an http.Handler is to an http.Server
// (package netmessage's Mux is one), or to the OnMessage and OnRequest
// hooks, which make a Handler. Both ends raise events through hooks set
// with options at construction: OnSessionOpened, OnSessionClosed,
// OnConnected, OnDisconnected, OnError; WithLogger logs them. An option
// that cannot apply makes Serve and Connect fail with ErrInvalidOption.
//
// Each connection has one reader goroutine, one writer goroutine that
// coalesces concurrent sends into few writes and sends heartbeats, and one
// dispatcher goroutine that runs the hooks in order, so user code never
// stalls the reader. A receive timeout detects a dead peer; a graceful
// Disconnect is a half-close handshake; every close has a CloseReason.
// Calls fail with errors that errors.Is and errors.As understand:
// ErrClosed, the CloseReason, *CloseError, ErrRequestTimeout (a net.Error).
//
// WithTLS makes either end speak TLS: the handshake completes, bounded by
// WithHandshakeTimeout, before a session opens, and Session.TLS returns the
// peer's verified certificates for mutual TLS. A client with WithReconnect
// reconnects by itself, paced by a Backoff, when its connection is lost or
// the server goes away (never after its own Close or Disconnect), and
// raises OnReconnecting, OnReconnected and OnReconnectFailed; while it has
// no connection, calls fail at once with ErrNotConnected.
package base
