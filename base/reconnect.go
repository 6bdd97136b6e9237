package base

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"runtime/debug"
	"time"
)

// Defaults of Backoff's fields.
const (
	DefaultReconnectInitial    = 100 * time.Millisecond // Backoff.Initial
	DefaultReconnectMax        = 10 * time.Second       // Backoff.Max
	DefaultReconnectMultiplier = 2.0                    // Backoff.Multiplier
	DefaultReconnectJitter     = 0.2                    // Backoff.Jitter
)

// Backoff says how a client paces its attempts to reconnect: the delay
// before attempt n is Initial * Multiplier^(n-1), at most Max, then moved
// by a random amount of up to ±Jitter of itself, so that many clients that
// lost one server do not come back all at once. The zero value means the
// defaults: 100 ms, 200 ms, 400 ms ... up to 10 s, ±20 %, forever.
//
// A connection that closes before the server sent a single byte (a server
// that accepts connections and never answers) does not start the count
// again: the attempts after it go on from the one that opened it.
type Backoff struct {
	// Initial is the delay before the first attempt (default 100 ms; <= 0
	// means the default).
	Initial time.Duration
	// Max caps the delay before jitter (default 10 s; <= 0 means the
	// default; a Max below Initial is raised to Initial).
	Max time.Duration
	// Multiplier is the growth of the delay per attempt (default 2; 0
	// means the default; values below 1 are taken as 1, a constant delay).
	Multiplier float64
	// Jitter is the fraction of each delay by which it is randomly moved
	// up or down (default 0.2; 0 means the default, a negative value no
	// jitter; at most 1).
	Jitter float64
	// MaxAttempts is the number of attempts before the client gives up
	// (default 0: never give up; negative values mean 0 too).
	MaxAttempts int
}

// withDefaults returns b with its zero and out-of-range fields replaced.
func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = DefaultReconnectInitial
	}
	if b.Max <= 0 {
		b.Max = DefaultReconnectMax
	}
	b.Max = max(b.Max, b.Initial)
	switch {
	case b.Multiplier == 0 || math.IsNaN(b.Multiplier):
		b.Multiplier = DefaultReconnectMultiplier
	case b.Multiplier < 1:
		b.Multiplier = 1
	}
	switch {
	case b.Jitter == 0 || math.IsNaN(b.Jitter):
		b.Jitter = DefaultReconnectJitter
	case b.Jitter < 0:
		b.Jitter = 0
	case b.Jitter > 1:
		b.Jitter = 1
	}
	b.MaxAttempts = max(b.MaxAttempts, 0)
	return b
}

// delay returns the delay before attempt n (counting from 1) of a Backoff
// with its defaults applied.
func (b *Backoff) delay(n int) time.Duration {
	d := min(float64(b.Initial)*math.Pow(b.Multiplier, float64(n-1)), float64(b.Max))
	if b.Jitter > 0 {
		d *= 1 + b.Jitter*(2*rand.Float64()-1)
	}
	return time.Duration(d)
}

// WithReconnect makes the client reconnect by itself, paced by b, to the
// address of its last successful Connect after any close it did not ask
// for: a lost connection, a network or protocol error, or the server
// closing or shutting down. Close and Disconnect, on the Client or its
// Session, never lead to reconnecting; on the Client they stop a loop under
// way and return once its goroutine has ended, unless an OnReconnecting or
// OnReconnectFailed hook runs (it may be their caller). While it
// reconnects, Connect fails with ErrAlreadyConnected, and sends and
// requests fail at once with an error matching ErrNotConnected. Hooks,
// backoff and errors: docs/configuration.md ("Reconnecting clients").
func WithReconnect(b Backoff) ClientOption {
	b = b.withDefaults()
	return clientOption(func(c *clientConfig) {
		b := b // each client its own copy: the option may be shared
		c.reconnect = &b
	})
}

// OnReconnecting sets the hook called before each reconnect attempt, with
// its number (from 1, or following the attempt that opened a connection
// over which the server sent nothing; see Backoff), the delay the client
// waits before it, and the error that led to it: the lost connection's
// *CloseError for the first attempt after a loss, then the previous
// attempt's error. It runs on the reconnect goroutine.
func OnReconnecting(f func(attempt int, delay time.Duration, err error)) ClientOption {
	return clientOption(func(c *clientConfig) { c.onReconnecting = f })
}

// OnReconnected sets the hook called when a reconnect attempt has opened a
// new connection: on its dispatcher, right after the connected hook and
// before any of its messages are delivered.
func OnReconnected(f func(s *Session)) ClientOption {
	return clientOption(func(c *clientConfig) { c.onReconnected = f })
}

// OnReconnectFailed sets the hook called when the client gives up
// reconnecting after Backoff.MaxAttempts attempts, with an error that wraps
// the last attempt's error. The client is then disconnected: Connect works
// again, from this hook too.
func OnReconnectFailed(f func(err error)) ClientOption {
	return clientOption(func(c *clientConfig) { c.onReconnectFailed = f })
}

// redial is a reconnect loop. Its fields other than done and cancel are
// guarded by Client.mu.
type redial struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when the goroutine has ended
	prev   *redial       // an earlier loop whose goroutine may still be ending
	active bool          // still attempting: not stopped, not given up, no connection yet
	inHook bool          // OnReconnecting or OnReconnectFailed is running
}

// reconnecting reports whether a reconnect loop is attempting. c.mu is held.
func (c *Client) reconnecting() bool { return c.loop != nil && c.loop.active }

// stopLoop stops the reconnect loop, if any. It returns a channel to wait
// on for the loop's goroutine (nil when there is nothing to wait for or the
// caller may be the loop's own hook) and whether the loop was attempting.
// c.mu is held.
func (c *Client) stopLoop() (wait <-chan struct{}, stopped bool) {
	r := c.loop
	if r == nil {
		return nil, false
	}
	r.cancel()
	stopped = r.active
	r.active = false
	// The loop's goroutine first waits for the earlier loops still ending,
	// each for the one before it: if any of them runs a hook, the caller
	// may be that hook.
	for p := r; p != nil; p = p.prev {
		if p.inHook {
			return nil, stopped
		}
	}
	return r.done, stopped
}

// ended is called when one of the client's sessions has ended (after its
// hooks, with its handlers returned); it starts reconnecting if that is
// wanted.
func (c *Client) ended(s *Session) {
	b := c.cfg.reconnect
	if b == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess != s || s.local.Load() || c.connecting() || c.reconnecting() {
		return
	}
	// A connection over which the server sent nothing does not count as
	// a success: the attempts go on from the one that opened it.
	first := 1
	if !s.heard.Load() {
		first = c.attempt + 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &redial{cancel: cancel, done: make(chan struct{}), prev: c.loop, active: true}
	c.loop = r
	go c.reconnect(ctx, r, *b, c.addr, s.Err(), first)
}

// reconnect is the reconnect loop's goroutine; its first attempt is
// numbered first.
func (c *Client) reconnect(ctx context.Context, r *redial, b Backoff, addr string, last error, first int) {
	defer func() {
		c.mu.Lock()
		if c.loop == r {
			c.loop = nil
		}
		c.mu.Unlock()
		r.cancel()
		close(r.done)
	}()
	c.mu.Lock()
	prev := r.prev
	c.mu.Unlock()
	if prev != nil {
		// Waiting for the previous loop's last steps makes waiting for this
		// one enough for Close.
		<-prev.done
		c.mu.Lock()
		r.prev = nil
		c.mu.Unlock()
	}
	for n := first; b.MaxAttempts == 0 || n <= b.MaxAttempts; n++ {
		delay := b.delay(n)
		if f := c.cfg.onReconnecting; f != nil {
			if !c.runHook(ctx, r, false, func() { f(n, delay, last) }) {
				return
			}
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
		actx, cancel := context.WithTimeout(ctx, c.cfg.handshakeTimeout)
		conn, err := c.dial(actx, addr)
		cancel()
		if err == nil {
			c.adopt(ctx, r, conn, n)
			return
		}
		last = err
	}
	err := fmt.Errorf("netmessage: gave up reconnecting to %s after %d attempts: %w", addr, b.MaxAttempts, last)
	f := c.cfg.onReconnectFailed
	if f == nil {
		f = func(error) {}
	}
	c.runHook(ctx, r, true, func() { f(err) })
}

// adopt makes conn, from successful attempt n, the client's connection,
// unless the loop was stopped meanwhile.
func (c *Client) adopt(ctx context.Context, r *redial, conn net.Conn, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ctx.Err() != nil {
		conn.Close()
		return
	}
	r.active = false
	c.attempt = n
	c.open(conn, &c.recfg)
}

// runHook runs a reconnect hook on the loop's goroutine unless the loop was
// stopped, and reports whether it ran and the loop goes on. While the hook
// runs, Close and Disconnect do not wait for the goroutine, so the hook may
// call them. final marks the loop as no longer attempting first.
func (c *Client) runHook(ctx context.Context, r *redial, final bool, f func()) bool {
	c.mu.Lock()
	if ctx.Err() != nil {
		c.mu.Unlock()
		return false
	}
	r.inHook = true
	if final {
		r.active = false
	}
	c.mu.Unlock()
	func() {
		defer func() {
			if v := recover(); v != nil && c.cfg.onError != nil {
				perr := &PanicError{Value: v, Stack: debug.Stack()}
				func() {
					defer func() { _ = recover() }()
					c.cfg.onError(nil, perr)
				}()
			}
		}()
		f()
	}()
	c.mu.Lock()
	defer c.mu.Unlock()
	r.inHook = false
	return ctx.Err() == nil
}
