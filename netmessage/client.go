package netmessage

import (
	"context"
	"crypto/tls"
	"time"

	"github.com/netmessage-go/netmessage/base"
)

// Client is a typed client: it connects to one server and dispatches
// received packets to the handlers registered with HandleMessage and
// HandleRequest.
type Client struct {
	c  *base.Client
	ep *endpoint
	rt *router[*Client]
}

// NewClient returns a client configured by opts.
func NewClient(opts ...ClientOption) (*Client, error) {
	cfg := clientConfig{config: defaultConfig()}
	for _, o := range opts {
		o.applyClient(&cfg)
	}
	cfg.logHooks()
	ep, err := newEndpoint(&cfg.config)
	if err != nil {
		return nil, err
	}
	c := &Client{ep: ep}
	c.rt = newRouter[*Client](ep)
	bopts := make([]base.ClientOption, 0, len(cfg.transport)+len(cfg.config.transport)+8)
	if o := decodeCost(cfg.ser); o != nil {
		bopts = append(bopts, o) // first: a transport option may override it
	}
	for _, o := range cfg.config.transport {
		bopts = append(bopts, o)
	}
	bopts = append(bopts, cfg.transport...)
	bopts = append(bopts,
		base.OnConnected(func(*base.Session) {
			if cfg.onConnected != nil {
				cfg.onConnected(c)
			}
		}),
		base.OnDisconnected(func(_ *base.Session, reason base.CloseReason) {
			if cfg.onClosed != nil {
				cfg.onClosed(c, reason)
			}
		}),
		base.OnReconnecting(func(attempt int, delay time.Duration, err error) {
			if cfg.onReconnecting != nil {
				cfg.onReconnecting(c, attempt, delay, err)
			}
		}),
		base.OnReconnected(func(*base.Session) {
			if cfg.onReconnected != nil {
				cfg.onReconnected(c)
			}
		}),
		base.OnReconnectFailed(func(err error) {
			if cfg.onReconnectFailed != nil {
				cfg.onReconnectFailed(c, err)
			}
		}),
		base.OnError(func(_ *base.Session, err error) { ep.report(c, err) }),
		base.OnMessage(func(ctx context.Context, _ *base.Session, payload []byte) {
			c.rt.onMessage(ctx, c, payload)
		}),
		base.OnRequest(func(ctx context.Context, _ *base.Session, payload []byte) []byte {
			return c.rt.onRequest(ctx, c, payload)
		}),
		base.OnUnsendableResponse(unsendable),
	)
	c.c = base.NewClient(cfg.proto, bopts...)
	return c, nil
}

func (c *Client) router() *router[*Client] { return c.rt }

// Connect connects to the server at addr; see base.Client.Connect. With
// WithReconnect, a lost connection is replaced by itself; Disconnect and
// Close stop that.
func (c *Client) Connect(ctx context.Context, addr string) error { return c.c.Connect(ctx, addr) }

// Send sends a one-way message to the server; see base.Session.SendMessage
// for what a nil error promises.
func (c *Client) Send(ctx context.Context, msg any) error { return c.ep.send(ctx, c, msg) }

// Disconnect closes the connection gracefully and stops reconnecting; see
// base.Client.Disconnect.
func (c *Client) Disconnect(ctx context.Context) error { return c.c.Disconnect(ctx) }

// Close closes the connection at once and stops reconnecting; see
// base.Client.Close.
func (c *Client) Close() error { return c.c.Close() }

// TLS returns the TLS state of the open connection (the server's
// certificates, the negotiated version), or nil when it is not a TLS
// connection or none is open; see base.Session.TLS.
func (c *Client) TLS() *tls.ConnectionState {
	if s, err := c.c.ActiveSession(); err == nil {
		return s.TLS()
	}
	return nil
}

// Base returns the transport client underneath.
func (c *Client) Base() *base.Client { return c.c }

// conn returns the open connection, or the error of base.Client's
// ActiveSession: base.ErrNotConnected, with the close error of the last
// connection if there was one. The endpoint is there either way.
func (c *Client) conn() (*base.Session, *endpoint, error) {
	s, err := c.c.ActiveSession()
	return s, c.ep, err
}
