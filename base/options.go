package base

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Defaults of the settings. Each end of a connection uses its own.
const (
	DefaultHeartbeatInterval     = 2 * time.Second  // WithHeartbeat's interval
	DefaultReceiveTimeout        = 5 * time.Second  // WithHeartbeat's timeout
	DefaultKeepAliveIdle         = 5 * time.Minute  // WithKeepAlive's idle time
	DefaultKeepAliveInterval     = 3 * time.Second  // WithKeepAlive's probe interval
	DefaultResponseTimeout       = 10 * time.Second // WithResponseTimeout
	DefaultDisconnectTimeout     = 3 * time.Second  // WithDisconnectTimeout
	DefaultWriteTimeout          = 10 * time.Second // WithWriteTimeout
	DefaultMaxPacketSize         = 4 << 20          // WithMaxPacketSize, in bytes
	DefaultMaxConcurrentRequests = 128              // WithMaxConcurrentRequests
	DefaultMaxQueuedBytes        = 8 << 20          // WithMaxQueuedBytes, in bytes
	DefaultMaxWriteBuffer        = 1 << 20          // WithMaxWriteBuffer, in bytes
	DefaultHandshakeTimeout      = 10 * time.Second // WithHandshakeTimeout
)

// ServerOption configures a Server.
type ServerOption interface{ applyServer(*serverConfig) }

// ClientOption configures a Client.
type ClientOption interface{ applyClient(*clientConfig) }

// Option configures either end: a Server (for every session) or a Client.
type Option interface {
	ServerOption
	ClientOption
}

// config holds what both ends share: the connection settings and the hooks a
// Session calls.
type config struct {
	heartbeat         time.Duration
	receiveTimeout    time.Duration
	keepAliveIdle     time.Duration
	keepAliveInterval time.Duration
	responseTimeout   time.Duration
	disconnectTimeout time.Duration
	writeTimeout      time.Duration
	maxPacketSize     int
	maxRequests       int
	maxQueuedBytes    int
	maxWriteBuffer    int
	tls               *tls.Config
	handshakeTimeout  time.Duration
	// skipUnknown: a response to an unknown id is an error event, not a
	// protocol error.
	skipUnknown bool
	// maxMetadata bounds the metadata bytes of a packet sent or received.
	maxMetadata int
	// handlerTimeout bounds a request handler's context; 0 for none.
	handlerTimeout time.Duration
	// decodePerByte and decodeFixed: what decoding a received payload may
	// take besides its bytes (WithDecodeCost).
	decodePerByte int64
	decodeFixed   int64
	// budget is the server's bound on bytes held for input across its
	// sessions (WithMaxInflightBytes); nil on a client.
	budget *budget

	onOpened func(*Session)
	onClosed func(*Session, CloseReason)
	onError  func(*Session, error)
	// handler gets the packets received (WithHandler, or made of hooks by
	// settle); messages and requests say which kinds it handles.
	handler            Handler
	releaser           ResponseReleaser // handler, if it is one
	hooks              hookHandler
	messages, requests bool
	// logger logs the end's events (WithLogger); nil for none.
	logger *slog.Logger
	// errs are the options' errors, err their join (settle): the end
	// refuses to run with it.
	errs []error
	err  error
	// calls is the pool of outgoing calls, shared by the end's sessions
	// (see newCallPool).
	calls *sync.Pool
}

func defaultConfig() config {
	return config{
		heartbeat:         DefaultHeartbeatInterval,
		receiveTimeout:    DefaultReceiveTimeout,
		keepAliveIdle:     DefaultKeepAliveIdle,
		keepAliveInterval: DefaultKeepAliveInterval,
		responseTimeout:   DefaultResponseTimeout,
		disconnectTimeout: DefaultDisconnectTimeout,
		writeTimeout:      DefaultWriteTimeout,
		maxPacketSize:     DefaultMaxPacketSize,
		maxRequests:       DefaultMaxConcurrentRequests,
		maxQueuedBytes:    DefaultMaxQueuedBytes,
		maxWriteBuffer:    DefaultMaxWriteBuffer,
		handshakeTimeout:  DefaultHandshakeTimeout,
		maxMetadata:       DefaultMaxMetadataBytes,
		calls:             newCallPool(),
	}
}

type serverConfig struct {
	config
	verify      func(net.Conn) error
	maxSessions int
	maxInflight int64 // 0: the default, see WithMaxInflightBytes
}

type clientConfig struct {
	config
	dial func(ctx context.Context, network, addr string) (net.Conn, error)

	reconnect         *Backoff // nil: no reconnecting
	onReconnecting    func(attempt int, delay time.Duration, err error)
	onReconnected     func(*Session)
	onReconnectFailed func(error)
}

type option func(*config)

func (o option) applyServer(c *serverConfig) { o(&c.config) }
func (o option) applyClient(c *clientConfig) { o(&c.config) }

type serverOption func(*serverConfig)

func (o serverOption) applyServer(c *serverConfig) { o(c) }

type clientOption func(*clientConfig)

func (o clientOption) applyClient(c *clientConfig) { o(c) }

// WithHeartbeat sets the heartbeat interval (default 2 s) and how long the
// connection may receive nothing before it closes with ReasonConnectionLost
// (default 5 s). At each interval a heartbeat is sent unless something else
// was written in the last half interval, so the peer hears from this end at
// least every 1.5 intervals. Any received byte counts as life. The receive,
// write and response timeouts are checked by coarse timers and may fire up
// to a sixteenth of their length late. interval <= 0 disables heartbeats,
// and TCP keep-alive is switched on instead (see WithKeepAlive); timeout
// <= 0 disables the receive timeout.
func WithHeartbeat(interval, timeout time.Duration) Option {
	return option(func(c *config) {
		c.heartbeat = max(interval, 0)
		c.receiveTimeout = max(timeout, 0)
	})
}

// WithKeepAlive sets the TCP keep-alive idle time (default 5 min) and probe
// interval (default 3 s) used when heartbeats are disabled. Values <= 0 keep
// the defaults.
func WithKeepAlive(idle, interval time.Duration) Option {
	return option(func(c *config) {
		if idle > 0 {
			c.keepAliveIdle = idle
		}
		if interval > 0 {
			c.keepAliveInterval = interval
		}
	})
}

// WithResponseTimeout sets how long a request waits for its response when
// its context has no earlier deadline (default 10 s). d <= 0 keeps the default.
func WithResponseTimeout(d time.Duration) Option {
	return option(func(c *config) {
		if d > 0 {
			c.responseTimeout = d
		}
	})
}

// WithDisconnectTimeout sets how long a graceful disconnect waits for the
// peer to finish (default 3 s). d <= 0 keeps the default.
func WithDisconnectTimeout(d time.Duration) Option {
	return option(func(c *config) {
		if d > 0 {
			c.disconnectTimeout = d
		}
	})
}

// WithWriteTimeout sets how long one write to the network may block before
// the connection closes with ReasonNetworkError (default 10 s), so a peer
// that stops reading cannot hold a connection forever. d <= 0 keeps the
// default.
func WithWriteTimeout(d time.Duration) Option {
	return option(func(c *config) {
		if d > 0 {
			c.writeTimeout = d
		}
	})
}

// WithSkipUnknownResponses makes a response to a request id never sent, or
// already answered, an error event (matching ErrUnknownResponse) after
// which the connection goes on, instead of closing the connection with
// ReasonProtocolError. It suits peers known to answer loosely, such as the
// .NET original, which does the same (dotnet.Compat sets it). The response
// is dropped either way.
func WithSkipUnknownResponses() Option {
	return option(func(c *config) { c.skipUnknown = true })
}

// WithMaxPacketSize sets the largest payload sent or received (default
// 4 MiB). A larger received packet closes the connection with
// ReasonProtocolError; a larger send fails with ErrPacketTooLarge. n <= 0
// keeps the default.
func WithMaxPacketSize(n int) Option {
	return option(func(c *config) {
		if n > 0 {
			c.maxPacketSize = n
		}
	})
}

// WithMaxConcurrentRequests bounds how many requests from the peer are
// handled at once (default 128). Requests past it wait in a queue, in the
// order received, and count towards WithMaxQueuedBytes, which pauses reading
// when full. n <= 0 keeps the default.
func WithMaxConcurrentRequests(n int) Option {
	return option(func(c *config) {
		if n > 0 {
			c.maxRequests = n
		}
	})
}

// WithMaxQueuedBytes bounds the payload bytes received but not yet handled
// (default 8 MiB; one packet is always let through), each payload counted
// with its decode cost (see WithDecodeCost). Error events about
// received input waiting for the error hook count too, with a small fixed
// cost each. Past it, reading from the peer pauses. n <= 0 keeps the
// default.
func WithMaxQueuedBytes(n int) Option {
	return option(func(c *config) {
		if n > 0 {
			c.maxQueuedBytes = n
		}
	})
}

// WithMaxWriteBuffer bounds the encoded bytes waiting to be written (default
// 1 MiB; one packet is always let in). Past it, sends wait for the writer.
// n <= 0 keeps the default.
func WithMaxWriteBuffer(n int) Option {
	return option(func(c *config) {
		if n > 0 {
			c.maxWriteBuffer = n
		}
	})
}

// WithMaxMetadataBytes bounds the metadata of a request or message (the
// lengths of its keys and values; default 8 KiB), sent and received. A send
// over it fails with an error matching ErrMetadata; a packet received over
// it is dropped with an error event matching ErrMetadata (a request is not
// answered: its caller waits for its timeout), and the connection goes on.
// n <= 0 keeps the default.
func WithMaxMetadataBytes(n int) Option {
	return option(func(c *config) {
		if n > 0 {
			c.maxMetadata = n
		}
	})
}

// WithHandlerTimeout bounds how long a request handler's context lasts
// (default: no bound of its own). A caller's deadline, carried by a
// protocol with call information, ends it sooner when it is earlier. The
// handler is not stopped: its context ends, and what it returns after that
// is still sent (the caller may have given up). d <= 0 means no bound.
func WithHandlerTimeout(d time.Duration) Option {
	return option(func(c *config) { c.handlerTimeout = max(d, 0) })
}

// WithDecodeCost tells the session what handling a received payload may
// take besides its own bytes: perByte bytes for each payload byte plus fixed
// bytes per payload (what the layer above needs to decode it, heap and
// stack). Each message and request payload of n bytes is then counted as
// n + perByte*n + fixed bytes (plus a small bookkeeping cost) against
// WithMaxQueuedBytes and the server's WithMaxInflightBytes, from its
// arrival until its hook or handler returns. The default is 0, 0: a
// payload counts as its size. netmessage sets it from its serializer's
// decode bound. Negative values are taken as 0.
func WithDecodeCost(perByte, fixed int) Option {
	return option(func(c *config) {
		c.decodePerByte = int64(max(perByte, 0))
		c.decodeFixed = int64(max(fixed, 0))
	})
}

// OnMessage sets the hook called for each message received, in the order
// sent, one at a time: an adapter to a Handler's ServeMessage (see
// WithHandler, which cannot be given with it). ctx carries the message's
// metadata (see IncomingMetadata) and ends when the connection closes.
// payload is valid only during the call. Without it, each message raises
// an error event matching ErrNoHandler. A panic in this or any other event
// hook is reported as an error event; a hook must not call
// runtime.Goexit, which would stop the session's events for good.
func OnMessage(f func(ctx context.Context, s *Session, payload []byte)) Option {
	return option(func(c *config) { c.hooks.message = f })
}

// OnRequest sets the handler of requests received: an adapter to a
// Handler's ServeRequest (see WithHandler, which cannot be given with it).
// Each runs in its own goroutine (at most WithMaxConcurrentRequests at
// once); what it returns is sent as the response (see OnUnsendableResponse
// for one that cannot be). ctx ends when the connection closes and, for a
// request with call information, when the caller's deadline passes or it
// cancels; it carries the request's metadata (IncomingMetadata). payload
// is valid only during the call. A handler must not wait for Disconnect on
// its own session, which waits for it. A panic sends no response: see
// docs/configuration.md.
func OnRequest(f func(ctx context.Context, s *Session, payload []byte) (response []byte)) Option {
	return option(func(c *config) { c.hooks.request = f })
}

// OnUnsendableResponse sets the hook that replaces a handler's response the
// session cannot send (an adapter to a Handler's ServeUnsendable; see
// WithHandler, which cannot be given with it): one over the maximum packet
// size, or one the Protocol refuses to encode. err says why and is also raised as an error
// event; what f returns is sent in its place, once (nil: nothing). If that
// is refused too, nothing is sent and no further event is raised. Without
// the hook, or when both are refused, the caller's request ends with its
// timeout.
func OnUnsendableResponse(f func(s *Session, err error) (response []byte)) Option {
	return option(func(c *config) { c.hooks.unsendable = f })
}

// OnError sets the hook called with errors: a protocol error or network error
// that closed the connection (after the closed hook), an error a Handler
// raised with Session.ReportError, a handler panic, an accept error, failed
// TLS handshake or verifier panic (on a server, with a nil Session), a panic
// in a client's reconnect hook (with a nil Session), a response that could
// not be sent. Errors about a session's input arrive in order with
// its messages; the others are reported from the goroutine that met them
// (a handler's, the accept loop's), so f may run concurrently with other
// hooks and must be safe for that.
func OnError(f func(s *Session, err error)) Option {
	return option(func(c *config) { c.onError = f })
}

// OnSessionOpened sets the hook called when a session opens, before any of
// its messages are delivered.
func OnSessionOpened(f func(s *Session)) ServerOption {
	return serverOption(func(c *serverConfig) { c.onOpened = f })
}

// OnSessionClosed sets the hook called once when a session has closed, after
// every message it received was delivered.
func OnSessionClosed(f func(s *Session, reason CloseReason)) ServerOption {
	return serverOption(func(c *serverConfig) { c.onClosed = f })
}

// WithVerifier sets a hook that vets each accepted connection before a
// session is opened for it: a non-nil error closes the connection. It runs
// in the connection's own goroutine, so it may block. On a TLS connection
// (WithTLS, or a listener that yields *tls.Conn) it runs after the
// handshake completed and gets the *tls.Conn, whose ConnectionState tells
// who the client is. A panic in f refuses the connection too, and raises an
// error event with a nil Session: a *CloseError with ReasonAcceptError
// wrapping a *PanicError. It must not call Close or Shutdown on its own
// server, which wait for running verifiers; call them from a new goroutine.
func WithVerifier(f func(conn net.Conn) error) ServerOption {
	return serverOption(func(c *serverConfig) { c.verify = f })
}

// WithMaxSessions bounds the number of sessions the server holds (default
// 0: no bound): open ones, and closed ones whose request handlers have not
// yet returned, as they still hold their goroutines. Past it, accepted
// connections are closed at once and an error event matching
// ErrTooManySessions is raised.
func WithMaxSessions(n int) ServerOption {
	return serverOption(func(c *serverConfig) { c.maxSessions = max(n, 0) })
}

// WithMaxInflightBytes bounds the bytes all the server's sessions together
// hold for received input (packets not yet handled, counted as for
// WithMaxQueuedBytes, and the buffers of large packets still arriving);
// past it, sessions that need more pause reading, in the order they came.
// n < 0 means no bound; 0 keeps the default, the larger of 8 times
// WithMaxQueuedBytes and twice the count of one largest packet (64 MiB with
// the base defaults). A session that waits past its receive timeout for
// room for a partly received packet closes with ReasonConnectionLost and an
// error matching ErrInflightLimit. What it leaves out: docs/configuration.md.
func WithMaxInflightBytes(n int) ServerOption {
	return serverOption(func(c *serverConfig) {
		switch {
		case n < 0:
			c.maxInflight = -1
		case n > 0:
			c.maxInflight = int64(n)
		}
	})
}

// OnConnected sets the hook called when the client's connection opens.
func OnConnected(f func(s *Session)) ClientOption {
	return clientOption(func(c *clientConfig) { c.onOpened = f })
}

// OnDisconnected sets the hook called once when the client's connection has
// closed, after every message it received was delivered.
func OnDisconnected(f func(s *Session, reason CloseReason)) ClientOption {
	return clientOption(func(c *clientConfig) { c.onClosed = f })
}

// WithDialer sets the function the client connects with (default: a
// net.Dialer). Use it for Unix sockets, proxies or in-memory connections;
// for TLS, WithTLS wraps what the dialer returns. A dialer that returns a
// *tls.Conn (tls.Dialer's DialContext) works too: the client completes its
// handshake before the session opens.
func WithDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) ClientOption {
	return clientOption(func(c *clientConfig) { c.dial = dial })
}
