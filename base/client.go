package base

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
)

// Client connects to one server. Its connection is a *Session; the client's
// methods act on the current one. A Client can connect again after its
// connection closed, and with WithReconnect it does so by itself when the
// connection is lost. It is safe for concurrent use.
type Client struct {
	newProto func() Protocol
	cfg      clientConfig
	recfg    config // cfg.config, with the reconnected hook after the connected hook

	mu   sync.Mutex
	sess *Session
	cur  atomic.Pointer[Session] // sess, for reading without mu
	addr string                  // of the last successful Connect
	// stopConnect ends the Connect under way (nil when none is);
	// connectStopped tells it Close or Disconnect did so.
	stopConnect    context.CancelFunc
	connectStopped bool
	loop           *redial // the reconnect loop, until its goroutine ends
	attempt        int     // the reconnect attempt that opened sess; 0 for Connect
}

// NewClient returns a client that speaks the protocol newProto creates, one
// instance per connection.
func NewClient(newProto func() Protocol, opts ...ClientOption) *Client {
	c := &Client{newProto: newProto, cfg: clientConfig{config: defaultConfig()}}
	for _, o := range opts {
		if o == nil {
			c.cfg.errs = append(c.cfg.errs, errNilOption)
			continue
		}
		o.applyClient(&c.cfg)
	}
	c.cfg.logHooks()
	c.cfg.settle()
	if c.cfg.dial == nil {
		d := &net.Dialer{}
		c.cfg.dial = d.DialContext
	}
	c.recfg = c.cfg.config
	if f, g := c.cfg.onOpened, c.cfg.onReconnected; g != nil {
		c.recfg.onOpened = func(s *Session) {
			if f != nil {
				s.callHook(func() { f(s) })
			}
			g(s)
		}
	}
	return c
}

// Connect dials addr over TCP (or with the WithDialer function), completes
// the TLS handshake when WithTLS is set, and opens the connection; the
// connected hook runs next. It fails with ErrAlreadyConnected while a
// connection is open or being made, or the client reconnects (see
// WithReconnect), and with an error matching ErrConnectStopped when Close
// or Disconnect stops it before the connection opens; a failed Connect
// does not start reconnecting. A client built with an option that cannot
// apply fails every Connect with its error, matching ErrInvalidOption.
func (c *Client) Connect(ctx context.Context, addr string) error {
	if err := c.cfg.err; err != nil {
		return err
	}
	c.mu.Lock()
	if c.connecting() || c.reconnecting() || (c.sess != nil && c.sess.Err() == nil) {
		c.mu.Unlock()
		return ErrAlreadyConnected
	}
	c.connectStopped = false
	ctx, c.stopConnect = context.WithCancel(ctx)
	c.mu.Unlock()

	conn, err := c.dial(ctx, addr)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopConnect() // release ctx's resources
	c.stopConnect = nil
	if c.connectStopped {
		if conn != nil {
			conn.Close()
		}
		return fmt.Errorf("netmessage: connect to %s: %w", addr, ErrConnectStopped)
	}
	if err != nil {
		return err
	}
	c.addr = addr
	c.attempt = 0
	c.open(conn, &c.cfg.config)
	return nil
}

// dial connects to addr and completes the TLS handshake, if any.
func (c *Client) dial(ctx context.Context, addr string) (net.Conn, error) {
	conn, err := c.cfg.dial(ctx, "tcp", addr)
	if err == nil && ctx.Err() != nil {
		conn.Close()
		err = ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("netmessage: connect to %s: %w", addr, err)
	}
	return c.dialTLS(ctx, conn, addr)
}

// open starts a session on conn and makes it the current one. c.mu is held.
func (c *Client) open(conn net.Conn, cfg *config) {
	s := newSession(0, conn, c.newProto(), cfg)
	s.onEnd = c.ended
	c.sess = s
	c.cur.Store(s)
	s.start()
}

// Session returns the current connection: the open one, or the last one
// after it closed (see Session.Err), or nil before the first Connect.
func (c *Client) Session() *Session { return c.cur.Load() }

// ActiveSession returns the open connection. Without one it returns an
// error matching ErrNotConnected; after a connection closed, the error also
// matches that connection's *CloseError (with errors.As) and its
// CloseReason and ErrClosed (with errors.Is), and says whether the client
// is reconnecting.
func (c *Client) ActiveSession() (*Session, error) {
	// The open connection is found without the lock: each call of Request
	// and SendMessage comes here.
	if s := c.cur.Load(); s != nil && s.closeErr.Load() == nil {
		return s, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess == nil {
		return nil, ErrNotConnected
	}
	if ce := c.sess.closeErr.Load(); ce != nil {
		return nil, &notConnectedError{last: ce, reconnecting: c.reconnecting()}
	}
	return c.sess, nil
}

// SendMessage queues a message on the open connection; see
// Session.SendMessage. Without an open connection, while reconnecting too,
// it fails at once with the error of ActiveSession.
func (c *Client) SendMessage(ctx context.Context, payload []byte) error {
	s, err := c.ActiveSession()
	if err != nil {
		return err
	}
	return s.SendMessage(ctx, payload)
}

// Request sends a request on the open connection and waits for the
// response; see Session.Request. Without an open connection, while
// reconnecting too, it fails at once with the error of ActiveSession.
func (c *Client) Request(ctx context.Context, payload []byte) ([]byte, error) {
	s, err := c.ActiveSession()
	if err != nil {
		return nil, err
	}
	return s.Request(ctx, payload)
}

// Disconnect closes the current connection gracefully (see
// Session.Disconnect) and, with WithReconnect, keeps the client from
// reconnecting. When the client is reconnecting, Disconnect stops that and
// returns nil once the reconnect goroutine has ended; while Connect dials,
// Disconnect stops it (see Connect) and returns nil. Before the first
// Connect it returns ErrNotConnected.
func (c *Client) Disconnect(ctx context.Context) error {
	c.mu.Lock()
	s := c.sess
	wait, stopped := c.stopLoop()
	if c.abortConnect() {
		stopped = true
	}
	if s != nil {
		s.local.Store(true)
	}
	c.mu.Unlock()
	if wait != nil {
		<-wait
	}
	switch {
	case stopped:
		return nil
	case s == nil:
		return ErrNotConnected
	}
	return s.Disconnect(ctx)
}

// Close closes the current connection at once (see Session.Close) and,
// with WithReconnect, stops reconnecting: it returns once the reconnect
// goroutine has ended. It stops a Connect under way too (see Connect). It
// returns nil, also when there is no connection.
func (c *Client) Close() error {
	c.mu.Lock()
	s := c.sess
	wait, _ := c.stopLoop()
	c.abortConnect()
	if s != nil {
		s.local.Store(true)
	}
	c.mu.Unlock()
	if wait != nil {
		<-wait
	}
	if s != nil {
		return s.Close()
	}
	return nil
}

// connecting reports whether a Connect is under way. c.mu is held.
func (c *Client) connecting() bool { return c.stopConnect != nil }

// abortConnect stops the Connect under way, if any, and reports whether
// there was one. c.mu is held.
func (c *Client) abortConnect() bool {
	if !c.connecting() {
		return false
	}
	c.connectStopped = true
	c.stopConnect()
	return true
}
