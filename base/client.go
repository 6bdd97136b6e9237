package base

import (
	"context"
	"fmt"
	"net"
	"sync"
)

// Client connects to one server. Its connection is a *Session; the client's
// methods act on the current one. A Client can connect again after its
// connection closed. It is safe for concurrent use.
type Client struct {
	newProto func() Protocol
	cfg      clientConfig

	mu         sync.Mutex
	sess       *Session
	connecting bool
}

// NewClient returns a client that speaks the protocol newProto creates, one
// instance per connection.
func NewClient(newProto func() Protocol, opts ...ClientOption) *Client {
	c := &Client{newProto: newProto, cfg: clientConfig{config: defaultConfig()}}
	for _, o := range opts {
		o.applyClient(&c.cfg)
	}
	if c.cfg.dial == nil {
		d := &net.Dialer{}
		c.cfg.dial = d.DialContext
	}
	return c
}

// Connect dials addr over TCP (or with the WithDialer function) and opens
// the connection; the connected hook runs next. It fails with
// ErrAlreadyConnected while a connection is open or being made.
func (c *Client) Connect(ctx context.Context, addr string) error {
	c.mu.Lock()
	if c.connecting || (c.sess != nil && c.sess.Err() == nil) {
		c.mu.Unlock()
		return ErrAlreadyConnected
	}
	c.connecting = true
	c.mu.Unlock()

	conn, err := c.cfg.dial(ctx, "tcp", addr)
	if err == nil && ctx.Err() != nil {
		conn.Close()
		err = ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.connecting = false
	if err != nil {
		return fmt.Errorf("netmessage: connect to %s: %w", addr, err)
	}
	c.sess = newSession(0, conn, c.newProto(), &c.cfg.config)
	c.sess.start()
	return nil
}

// Session returns the current connection, or nil before the first Connect.
func (c *Client) Session() *Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}

func (c *Client) session() (*Session, error) {
	s := c.Session()
	if s == nil {
		return nil, ErrNotConnected
	}
	return s, nil
}

// SendMessage queues a message on the current connection; see
// Session.SendMessage.
func (c *Client) SendMessage(ctx context.Context, payload []byte) error {
	s, err := c.session()
	if err != nil {
		return err
	}
	return s.SendMessage(ctx, payload)
}

// Request sends a request on the current connection and waits for the
// response; see Session.Request.
func (c *Client) Request(ctx context.Context, payload []byte) ([]byte, error) {
	s, err := c.session()
	if err != nil {
		return nil, err
	}
	return s.Request(ctx, payload)
}

// Disconnect closes the current connection gracefully; see
// Session.Disconnect.
func (c *Client) Disconnect(ctx context.Context) error {
	s, err := c.session()
	if err != nil {
		return err
	}
	return s.Disconnect(ctx)
}

// Close closes the current connection at once; see Session.Close. It returns
// nil when there is none.
func (c *Client) Close() error {
	if s := c.Session(); s != nil {
		return s.Close()
	}
	return nil
}
