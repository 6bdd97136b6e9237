package base_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// Tests of timing run in a synctest bubble: time is virtual and moves only
// when every goroutine of the bubble is blocked, so a timeout can be
// asserted to the nanosecond. A socket blocks outside the bubble, so the
// ends talk over memConn, an in-memory connection made in the bubble.
// Everything a bubble test starts must have ended when it returns: the
// helpers below close what they open in cleanups, which run in the bubble.

// memBufferSize is how many bytes one direction of a memConn holds unread
// before writes wait, like a socket's buffers.
const memBufferSize = 64 << 10

// memPipe is one direction of a memConn.
type memPipe struct {
	mu     sync.Mutex
	buf    []byte
	eof    bool          // the writing end half-closed or closed
	broken bool          // the reading end closed: writes fail
	change chan struct{} // closed, and replaced, when any of the above changes
}

func newMemPipe() *memPipe { return &memPipe{change: make(chan struct{})} }

// changed wakes the goroutines waiting on p. p.mu is held.
func (p *memPipe) changed() {
	close(p.change)
	p.change = make(chan struct{})
}

// memDeadline is a read or write deadline: its channel is closed once the
// deadline has passed.
type memDeadline struct {
	mu     sync.Mutex
	timer  *time.Timer
	passed chan struct{}
}

func newMemDeadline() *memDeadline { return &memDeadline{passed: make(chan struct{})} }

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func (d *memDeadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.passed // the timer fired: wait for it to close the channel
	}
	d.timer = nil
	if isClosed(d.passed) {
		d.passed = make(chan struct{})
	}
	if t.IsZero() {
		return
	}
	if dur := time.Until(t); dur > 0 {
		passed := d.passed
		d.timer = time.AfterFunc(dur, func() { close(passed) })
		return
	}
	close(d.passed)
}

func (d *memDeadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.passed
}

type memAddr string

func (a memAddr) Network() string { return "mem" }
func (a memAddr) String() string  { return string(a) }

// memConn is an end of an in-memory connection with the traits of TCP the
// sessions use: buffered writes, deadlines and half-close (CloseWrite).
type memConn struct {
	in, out       *memPipe
	rdl, wdl      *memDeadline
	closed        chan struct{}
	once          sync.Once
	local, remote memAddr
}

// memConnPair returns the two ends of a new connection.
func memConnPair() (*memConn, *memConn) {
	ab, ba := newMemPipe(), newMemPipe()
	a := &memConn{in: ba, out: ab, rdl: newMemDeadline(), wdl: newMemDeadline(), closed: make(chan struct{}), local: "client", remote: "server"}
	b := &memConn{in: ab, out: ba, rdl: newMemDeadline(), wdl: newMemDeadline(), closed: make(chan struct{}), local: "server", remote: "client"}
	return a, b
}

func (c *memConn) Read(b []byte) (int, error) {
	for {
		if isClosed(c.closed) {
			return 0, net.ErrClosed
		}
		dl := c.rdl.wait()
		if isClosed(dl) {
			return 0, os.ErrDeadlineExceeded
		}
		p := c.in
		p.mu.Lock()
		if len(p.buf) > 0 {
			n := copy(b, p.buf)
			p.buf = p.buf[n:]
			p.changed()
			p.mu.Unlock()
			return n, nil
		}
		if p.eof {
			p.mu.Unlock()
			return 0, io.EOF
		}
		ch := p.change
		p.mu.Unlock()
		select {
		case <-ch:
		case <-dl:
		case <-c.closed:
		}
	}
}

func (c *memConn) Write(b []byte) (int, error) {
	n := 0
	for {
		if isClosed(c.closed) {
			return n, net.ErrClosed
		}
		dl := c.wdl.wait()
		if isClosed(dl) {
			return n, os.ErrDeadlineExceeded
		}
		p := c.out
		p.mu.Lock()
		switch {
		case p.eof:
			p.mu.Unlock()
			return n, net.ErrClosed
		case p.broken:
			p.mu.Unlock()
			return n, &net.OpError{Op: "write", Net: "mem", Err: syscall.EPIPE}
		}
		if room := memBufferSize - len(p.buf); room > 0 {
			k := min(room, len(b))
			p.buf = append(p.buf, b[:k]...)
			b, n = b[k:], n+k
			p.changed()
			if len(b) == 0 {
				p.mu.Unlock()
				return n, nil
			}
		}
		ch := p.change
		p.mu.Unlock()
		select {
		case <-ch:
		case <-dl:
		case <-c.closed:
		}
	}
}

// CloseWrite ends this end's stream: the peer reads what was written and
// then io.EOF.
func (c *memConn) CloseWrite() error {
	c.out.mu.Lock()
	defer c.out.mu.Unlock()
	if !c.out.eof {
		c.out.eof = true
		c.out.changed()
	}
	return nil
}

func (c *memConn) Close() error {
	c.once.Do(func() {
		close(c.closed)
		c.CloseWrite()
		c.in.mu.Lock()
		c.in.broken = true
		c.in.changed()
		c.in.mu.Unlock()
	})
	return nil
}

func (c *memConn) LocalAddr() net.Addr  { return c.local }
func (c *memConn) RemoteAddr() net.Addr { return c.remote }

func (c *memConn) SetDeadline(t time.Time) error {
	c.rdl.set(t)
	c.wdl.set(t)
	return nil
}

func (c *memConn) SetReadDeadline(t time.Time) error  { c.rdl.set(t); return nil }
func (c *memConn) SetWriteDeadline(t time.Time) error { c.wdl.set(t); return nil }

// memListener is a net.Listener whose connections are memConns made by
// its dial method (a client's dialer: see base.WithDialer).
type memListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newMemListener() *memListener {
	return &memListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *memListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *memListener) Addr() net.Addr { return memAddr("server") }

// dial makes a connection and waits until it is accepted; once the
// listener is closed it is refused.
func (l *memListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	a, b := memConnPair()
	select {
	case l.conns <- b:
		return a, nil
	case <-l.done:
		return nil, &net.OpError{Op: "dial", Net: "mem", Err: syscall.ECONNREFUSED}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// acceptMem accepts the next connection on ln as a raw peer, closed when
// the test ends.
func acceptMem(t *testing.T, ln *memListener) *rawPeer {
	t.Helper()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	return newRawPeer(t, conn)
}

// serveMem serves srv on ln, and when the test ends closes the server and
// checks that Serve returned base.ErrServerClosed.
func serveMem(t *testing.T, srv *base.Server, ln *memListener) {
	t.Helper()
	serveOn(t, srv, ln)
}

// dialMem connects a client, dialling ln, and closes it when the test
// ends. It waits for the client's connected event and, when srvRec is not
// nil, for the server's opened event.
func dialMem(t *testing.T, ln *memListener, rec, srvRec *recorder, opts ...base.ClientOption) (*base.Client, *base.Session, *base.Session) {
	t.Helper()
	return connect(t, "server", rec, srvRec, append([]base.ClientOption{base.WithDialer(ln.dial)}, opts...)...)
}

// newMemPair is newPair over a memConn, for a bubble. Its addr is empty.
func newMemPair(t *testing.T, sopts []base.ServerOption, copts []base.ClientOption) *pair {
	t.Helper()
	p := &pair{srvRec: newRecorder(), cliRec: newRecorder()}
	p.srv = base.NewServer(native.New, p.srvRec.server(sopts...)...)
	ln := newMemListener()
	serveMem(t, p.srv, ln)
	p.client, p.cliSess, p.srvSess = dialMem(t, ln, p.cliRec, p.srvRec, copts...)
	return p
}

// exactly fails unless d is want: a bound of virtual time.
func exactly(t *testing.T, what string, d, want time.Duration, bound string) {
	t.Helper()
	if d != want {
		t.Errorf("%s took %v, want exactly %v (%s)", what, d, want, bound)
	}
}

// fillWriteBuffer sends messages of 16 KiB on s without waiting until its
// write buffer is full, and still full once the writer has moved what the
// connection takes (its peer reads nothing, or has stopped reading).
func fillWriteBuffer(t *testing.T, s *base.Session) {
	t.Helper()
	msg := make([]byte, 16<<10)
	full := false
	for sent := 0; ; sent++ {
		if sent == 1<<14 {
			t.Fatalf("%d messages (%d MiB) queued without the write buffer filling", sent, sent*len(msg)>>20)
		}
		err := s.TrySendMessage(context.Background(), msg)
		if err == nil {
			full = false
			continue
		}
		if !errors.Is(err, base.ErrWriteBufferFull) {
			t.Fatalf("TrySendMessage: %v", err)
		}
		if full {
			return
		}
		full = true
		synctest.Wait()
	}
}
