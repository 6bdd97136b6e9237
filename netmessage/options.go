package netmessage

import (
	"fmt"
	"log/slog"
	"reflect"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
	"github.com/netmessage-go/netmessage/serializers/msgpack"
)

// ServerOption configures a Server.
type ServerOption interface{ applyServer(*serverConfig) }

// ClientOption configures a Client.
type ClientOption interface{ applyClient(*clientConfig) }

// Option configures a Server or a Client.
type Option interface {
	ServerOption
	ClientOption
}

type config struct {
	ser         Serializer
	proto       func() base.Protocol
	ids         []explicitID
	transport   []base.Option
	onError     func(Peer, error)
	onUnhandled func(Peer, base.Kind, string)
	inbound     []Interceptor
	outbound    []Interceptor
	logger      *slog.Logger
	errs        []error // option errors, reported by NewServer and NewClient
}

type explicitID struct {
	t  reflect.Type
	id string
}

func defaultConfig() config {
	return config{ser: msgpack.New(), proto: native.New}
}

type serverConfig struct {
	config
	transport []base.ServerOption
	onOpened  func(*Session)
	onClosed  func(*Session, base.CloseReason)
}

type clientConfig struct {
	config
	transport         []base.ClientOption
	onConnected       func(*Client)
	onClosed          func(*Client, base.CloseReason)
	onReconnecting    func(*Client, int, time.Duration, error)
	onReconnected     func(*Client)
	onReconnectFailed func(*Client, error)
}

type option func(*config)

func (o option) applyServer(c *serverConfig) { o(&c.config) }
func (o option) applyClient(c *clientConfig) { o(&c.config) }

type serverOption func(*serverConfig)

func (o serverOption) applyServer(c *serverConfig) { o(c) }

type clientOption func(*clientConfig)

func (o clientOption) applyClient(c *clientConfig) { o(c) }

// WithSerializer sets the serializer (default: msgpack from the serializers
// module, for its speed, compact output and byte-safe strings). Both ends
// must use the same one.
func WithSerializer(s Serializer) Option {
	return option(func(c *config) { c.ser = s })
}

// WithProtocol sets the wire protocol (default: native.New).
func WithProtocol(newProto func() base.Protocol) Option {
	return option(func(c *config) { c.proto = newProto })
}

// WithTypeID gives type T the type id id on the wire, overriding its
// NetMessageTypeID method or default id. Two types with one id fail
// NewServer or NewClient. A pointer type stands for the type it points to,
// which is how its values are sent; an interface type fails with
// ErrTypeID.
func WithTypeID[T any](id string) Option {
	return option(func(c *config) {
		t := reflect.TypeFor[T]()
		switch t.Kind() {
		case reflect.Pointer:
			t = t.Elem()
		case reflect.Interface:
			c.errs = append(c.errs, fmt.Errorf("%w: WithTypeID for the interface type %s; use a concrete type", ErrTypeID, t))
			return
		}
		c.ids = append(c.ids, explicitID{t, id})
	})
}

// WithTypeIDOf is WithTypeID for the type of v (a value or a pointer to
// one), for code that lists packet types as values:
//
//	netmessage.WithTypeIDOf(WeatherRequest{}, "Interop.WeatherRequest")
func WithTypeIDOf(v any, id string) Option {
	return option(func(c *config) {
		t, err := packetType(v)
		if err != nil {
			c.errs = append(c.errs, err)
			return
		}
		c.ids = append(c.ids, explicitID{t, id})
	})
}

// Combine returns an option that applies opts in order, for packaging a
// set of options as one (a compatibility profile, say).
func Combine(opts ...Option) Option {
	return option(func(c *config) {
		for _, o := range opts {
			if o, ok := o.(option); ok {
				o(c)
			}
		}
	})
}

// WithTransport passes settings to the base transport of either end:
// heartbeats, timeouts, limits (base.WithHeartbeat, base.WithMaxPacketSize
// and so on). Base hooks given here are replaced by the typed layer's.
func WithTransport(opts ...base.Option) Option {
	return option(func(c *config) { c.transport = append(c.transport, opts...) })
}

// WithServerTransport passes server settings to the base transport, such
// as base.WithVerifier and base.WithMaxSessions.
func WithServerTransport(opts ...base.ServerOption) ServerOption {
	return serverOption(func(c *serverConfig) { c.transport = append(c.transport, opts...) })
}

// WithClientTransport passes client settings to the base transport, such as
// base.WithDialer. For TLS, pass base.WithTLS to WithTransport (it applies
// to either end).
func WithClientTransport(opts ...base.ClientOption) ClientOption {
	return clientOption(func(c *clientConfig) { c.transport = append(c.transport, opts...) })
}

// OnError sets the hook for errors: a connection closed by a network or
// protocol error, a packet that could not be decoded, a handler panic. p is
// a *Session or a *Client, or nil for a server's accept errors and failed
// TLS handshakes (matching base.ErrHandshake).
func OnError(f func(p Peer, err error)) Option {
	return option(func(c *config) { c.onError = f })
}

// OnUnhandled sets the hook for packets whose type has no handler: kind is
// base.KindMessage or base.KindRequest, typeID the packet's type id. The
// caller of an unhandled request gets a *RemoteError matching ErrUnhandled.
// Without the hook, an unhandled message raises an error event matching
// ErrUnhandled.
func OnUnhandled(f func(p Peer, kind base.Kind, typeID string)) Option {
	return option(func(c *config) { c.onUnhandled = f })
}

// OnSessionOpened sets the hook called when a session opens.
func OnSessionOpened(f func(s *Session)) ServerOption {
	return serverOption(func(c *serverConfig) { c.onOpened = f })
}

// OnSessionClosed sets the hook called when a session has closed.
func OnSessionClosed(f func(s *Session, reason base.CloseReason)) ServerOption {
	return serverOption(func(c *serverConfig) { c.onClosed = f })
}

// OnConnected sets the hook called when the client's connection opens.
func OnConnected(f func(c *Client)) ClientOption {
	return clientOption(func(c *clientConfig) { c.onConnected = f })
}

// OnDisconnected sets the hook called when the client's connection has
// closed.
func OnDisconnected(f func(c *Client, reason base.CloseReason)) ClientOption {
	return clientOption(func(c *clientConfig) { c.onClosed = f })
}

// WithReconnect makes the client reconnect by itself, paced by b, when its
// connection is lost or the server goes away; see base.WithReconnect for
// when it does and does not, and base.Backoff for the pacing and its
// defaults. Handlers stay registered and serve each new connection. While
// the client has no connection, Send and Request fail at once with an error
// matching base.ErrNotConnected.
func WithReconnect(b base.Backoff) ClientOption {
	return clientOption(func(c *clientConfig) { c.transport = append(c.transport, base.WithReconnect(b)) })
}

// OnReconnecting sets the hook called before each reconnect attempt; see
// base.OnReconnecting.
func OnReconnecting(f func(c *Client, attempt int, delay time.Duration, err error)) ClientOption {
	return clientOption(func(c *clientConfig) { c.onReconnecting = f })
}

// OnReconnected sets the hook called when the client has reconnected, right
// after its connected hook; see base.OnReconnected.
func OnReconnected(f func(c *Client)) ClientOption {
	return clientOption(func(c *clientConfig) { c.onReconnected = f })
}

// OnReconnectFailed sets the hook called when the client gives up
// reconnecting; see base.OnReconnectFailed.
func OnReconnectFailed(f func(c *Client, err error)) ClientOption {
	return clientOption(func(c *clientConfig) { c.onReconnectFailed = f })
}
