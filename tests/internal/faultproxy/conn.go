package faultproxy

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// readSize is the largest chunk a forwarding goroutine reads at once.
const readSize = 32 << 10

// Conn is one proxied connection: the client's connection to the proxy and
// the proxy's connection to the target. Its methods are safe for
// concurrent use; each fault applies to the connection until changed.
type Conn struct {
	p      *Proxy
	seq    uint64
	client *net.TCPConn // accepted from the dialing client
	server *net.TCPConn // dialed to the target

	mu      sync.Mutex
	faults  faults
	changed chan struct{} // closed and replaced when faults change
	ended   Direction     // directions whose end of stream was passed on

	up, down atomic.Int64 // bytes forwarded each way

	once sync.Once
	done chan struct{} // closed when both sides are closed
}

// ClientAddr returns the address of the client that dialed the proxy.
func (c *Conn) ClientAddr() net.Addr { return c.client.RemoteAddr() }

// TargetSideAddr returns the proxy's own address on its connection to the
// target: the remote address the target sees for this connection.
func (c *Conn) TargetSideAddr() net.Addr { return c.server.LocalAddr() }

// Forwarded returns the bytes forwarded so far in dir (both directions
// added for Both).
func (c *Conn) Forwarded(dir Direction) int64 {
	var n int64
	if dir&Upstream != 0 {
		n += c.up.Load()
	}
	if dir&Downstream != 0 {
		n += c.down.Load()
	}
	return n
}

// Done returns a channel closed when the connection is closed: cut, reset,
// ended by both ends, or failed.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Delay holds each chunk of bytes for at least d before forwarding it;
// d <= 0 removes the delay. See Proxy.Delay.
func (c *Conn) Delay(d time.Duration) {
	c.update(func(f *faults) { f.delay = max(d, 0) })
}

// Stall stops forwarding in the given directions without closing
// anything, until Resume.
func (c *Conn) Stall(dir Direction) {
	c.update(func(f *faults) { f.stalled |= dir })
}

// Resume removes the connection's stalls and delay; held bytes are
// forwarded in order.
func (c *Conn) Resume() {
	c.update(func(f *faults) { *f = faults{} })
}

// Cut closes both sides of the connection, as an intermediary that drops
// it would: each end reads an end of stream (or a reset, if the kernel
// still held bytes the proxy had not read). It does not wait for the
// forwarding goroutines; Proxy.Close does.
func (c *Conn) Cut() { c.teardown(false) }

// Reset closes both sides with an RST: each end's next read or write fails
// with "connection reset by peer".
func (c *Conn) Reset() { c.teardown(true) }

func (c *Conn) update(change func(*faults)) {
	c.mu.Lock()
	change(&c.faults)
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

func (c *Conn) teardown(rst bool) {
	c.once.Do(func() {
		if rst {
			_ = c.client.SetLinger(0)
			_ = c.server.SetLinger(0)
		}
		c.client.Close()
		c.server.Close()
		c.p.forget(c)
		close(c.done)
	})
}

// forward is one direction's goroutine: the only reader of src and the
// only writer of dst. It passes an end of stream on as a half-close and a
// reset as a reset.
func (c *Conn) forward(dir Direction, src, dst *net.TCPConn) {
	defer c.p.wg.Done()
	count := &c.up
	if dir == Downstream {
		count = &c.down
	}
	buf := make([]byte, readSize)
	for {
		n, err := src.Read(buf)
		readAt := time.Now()
		if n > 0 {
			if !c.pass(dir, readAt) {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				c.teardown(true)
				return
			}
			count.Add(int64(n))
		}
		switch {
		case err == nil:
			continue
		case errors.Is(err, io.EOF):
			if !c.pass(dir, readAt) {
				return
			}
			if dst.CloseWrite() != nil {
				c.teardown(true)
				return
			}
			c.mu.Lock()
			c.ended |= dir
			all := c.ended == Both
			c.mu.Unlock()
			if all {
				c.teardown(false)
			}
		default:
			// Closed by teardown, or the side failed: pass a reset on as
			// a reset and anything else as a close.
			c.teardown(errors.Is(err, syscall.ECONNRESET))
		}
		return
	}
}

// pass waits until bytes of dir read at readAt may be forwarded: while
// dir is stalled and until the delay has passed. It reports false when the
// connection closes first.
func (c *Conn) pass(dir Direction, readAt time.Time) bool {
	for {
		c.mu.Lock()
		f, changed := c.faults, c.changed
		c.mu.Unlock()
		var timer *time.Timer
		var due <-chan time.Time
		if f.stalled&dir == 0 {
			wait := time.Until(readAt.Add(f.delay))
			if wait <= 0 {
				return true
			}
			timer = time.NewTimer(wait)
			due = timer.C
		}
		select {
		case <-due:
		case <-changed:
		case <-c.done:
			if timer != nil {
				timer.Stop()
			}
			return false
		}
		if timer != nil {
			timer.Stop()
		}
	}
}
