package faultproxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// target is a loopback server that hands each accepted connection to the
// test.
type target struct {
	ln    net.Listener
	conns chan *net.TCPConn
	wg    sync.WaitGroup
}

func startTarget(t *testing.T) *target {
	t.Helper()
	tg := &target{ln: testutil.Listen(t), conns: make(chan *net.TCPConn, 16)}
	tg.wg.Add(1)
	go func() {
		defer tg.wg.Done()
		for {
			conn, err := tg.ln.Accept()
			if err != nil {
				return
			}
			tg.conns <- conn.(*net.TCPConn)
		}
	}()
	t.Cleanup(func() {
		tg.ln.Close()
		tg.wg.Wait()
		close(tg.conns)
		for c := range tg.conns {
			c.Close()
		}
	})
	return tg
}

// accept returns the target's next connection, closed when the test ends.
func (tg *target) accept(t *testing.T) *net.TCPConn {
	t.Helper()
	c := testutil.Recv(t, tg.conns, "the target to accept")
	t.Cleanup(func() { c.Close() })
	return c
}

// link is a client and the target's end of one connection through a proxy.
type link struct {
	client *net.TCPConn
	server *net.TCPConn
	conn   *Conn
}

// startProxy starts a proxy to tg, closed when the test ends, and returns
// it with the channel its OnConn hook fills.
func startProxy(t *testing.T, tg *target) (*Proxy, chan *Conn) {
	t.Helper()
	conns := make(chan *Conn, 16)
	p, err := New(tg.ln.Addr().String(), OnConn(func(c *Conn) { conns <- c }))
	testutil.Must(t, err)
	t.Cleanup(func() { p.Close() })
	return p, conns
}

func dial(t *testing.T, p *Proxy, tg *target, conns chan *Conn) *link {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.Addr(), testutil.WaitTime)
	testutil.Must(t, err)
	t.Cleanup(func() { c.Close() })
	l := &link{client: c.(*net.TCPConn)}
	l.server = tg.accept(t)
	l.conn = testutil.Recv(t, conns, "the proxy's connection")
	if got, want := l.conn.ClientAddr().String(), c.LocalAddr().String(); got != want {
		t.Errorf("ClientAddr %s, want %s", got, want)
	}
	if got, want := l.conn.TargetSideAddr().String(), l.server.RemoteAddr().String(); got != want {
		t.Errorf("TargetSideAddr %s, want %s", got, want)
	}
	return l
}

// readFull reads len(want) bytes from c and compares them.
func readFull(t *testing.T, c net.Conn, want []byte) {
	t.Helper()
	testutil.Must(t, c.SetReadDeadline(time.Now().Add(testutil.WaitTime)))
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %q, want %q", got, want)
	}
}

// readErr reads from c until it fails and returns the error.
func readErr(t *testing.T, c net.Conn) error {
	t.Helper()
	testutil.Must(t, c.SetReadDeadline(time.Now().Add(testutil.WaitTime)))
	_, err := io.Copy(io.Discard, c)
	if err == nil {
		err = io.EOF // io.Copy reports a clean end as nil
	}
	return err
}

// ended reports whether err, from readErr, is the end of the connection
// (an end of stream, or a reset when the other side closed with bytes
// unread) rather than a read that timed out on a connection left open.
func ended(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// quiet asserts that nothing can be read from c for testutil.Quiet.
func quiet(t *testing.T, c net.Conn) {
	t.Helper()
	testutil.Must(t, c.SetReadDeadline(time.Now().Add(testutil.Quiet)))
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read %q, %v; want nothing until the deadline", buf[:n], err)
	}
}

func write(t *testing.T, c net.Conn, p string) {
	t.Helper()
	testutil.Must(t, c.SetWriteDeadline(time.Now().Add(testutil.WaitTime)))
	if _, err := c.Write([]byte(p)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// TestForwardsBothWaysAndHalfClose sends bytes both ways through the proxy,
// then half-closes each side in turn: the end of stream is passed on while
// the other direction still works, and once both ends have finished the
// proxy closes the connection.
func TestForwardsBothWaysAndHalfClose(t *testing.T) {
	tg := startTarget(t)
	p, conns := startProxy(t, tg)
	l := dial(t, p, tg, conns)

	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB, many reads
	go func() { _, _ = l.client.Write(big) }()
	readFull(t, l.server, big)
	write(t, l.server, "pong")
	readFull(t, l.client, []byte("pong"))

	testutil.Must(t, l.client.CloseWrite())
	if err := readErr(t, l.server); !errors.Is(err, io.EOF) {
		t.Fatalf("target read %v after the client's half-close, want EOF", err)
	}
	write(t, l.server, "still open")
	readFull(t, l.client, []byte("still open"))
	testutil.Must(t, l.server.CloseWrite())
	if err := readErr(t, l.client); !errors.Is(err, io.EOF) {
		t.Fatalf("client read %v after the target's half-close, want EOF", err)
	}
	testutil.Closed(t, l.conn.Done(), "the proxied connection to close")
	if got, want := l.conn.Forwarded(Upstream), int64(len(big)); got != want {
		t.Errorf("forwarded %d bytes upstream, want %d", got, want)
	}
	if got, want := l.conn.Forwarded(Both), int64(len(big)+len("pong")+len("still open")); got != want {
		t.Errorf("forwarded %d bytes in all, want %d", got, want)
	}
	if n := len(p.Conns()); n != 0 {
		t.Errorf("%d connections listed after both ends finished", n)
	}
}

// TestStallIsABlackHole stalls one direction: nothing passes that way and
// nothing closes, the other direction works, and Resume delivers the held
// bytes in order. A proxy-wide stall applies to connections made later.
func TestStallIsABlackHole(t *testing.T) {
	tg := startTarget(t)
	p, conns := startProxy(t, tg)
	l := dial(t, p, tg, conns)

	l.conn.Stall(Upstream)
	write(t, l.client, "held ")
	write(t, l.client, "in order")
	quiet(t, l.server)
	write(t, l.server, "downstream works")
	readFull(t, l.client, []byte("downstream works"))
	l.conn.Resume()
	readFull(t, l.server, []byte("held in order"))

	p.Stall(Both)
	write(t, l.client, "up")
	write(t, l.server, "down")
	quiet(t, l.server)
	quiet(t, l.client)
	late := dial(t, p, tg, conns) // stalled from the start
	write(t, late.client, "late")
	quiet(t, late.server)
	select {
	case <-l.conn.Done():
		t.Fatal("a stalled connection closed")
	default:
	}

	p.Resume()
	readFull(t, l.server, []byte("up"))
	readFull(t, l.client, []byte("down"))
	readFull(t, late.server, []byte("late"))
}

// TestDelay holds each chunk for the delay, then forwards it intact.
func TestDelay(t *testing.T) {
	// Long enough that an undelayed chunk on a busy machine is told
	// apart from a delayed one.
	const d = 500 * time.Millisecond
	tg := startTarget(t)
	p, conns := startProxy(t, tg)
	l := dial(t, p, tg, conns)

	p.Delay(d)
	start := time.Now()
	write(t, l.client, "slow")
	readFull(t, l.server, []byte("slow"))
	testutil.Within(t, "a delayed chunk", time.Since(start), d, d+3*time.Second)

	l.conn.Delay(0)
	start = time.Now()
	write(t, l.server, "fast")
	readFull(t, l.client, []byte("fast"))
	testutil.Within(t, "an undelayed chunk", time.Since(start), 0, d)
}

// TestCut closes both sides: each end reads an end of stream, and a
// stalled connection cut with bytes held closes all the same.
func TestCut(t *testing.T) {
	tg := startTarget(t)
	p, conns := startProxy(t, tg)
	l := dial(t, p, tg, conns)
	l.conn.Cut()
	if err := readErr(t, l.client); !errors.Is(err, io.EOF) {
		t.Errorf("client read %v after a cut, want EOF", err)
	}
	if err := readErr(t, l.server); !errors.Is(err, io.EOF) {
		t.Errorf("target read %v after a cut, want EOF", err)
	}
	testutil.Closed(t, l.conn.Done(), "the cut connection's Done")

	stalled := dial(t, p, tg, conns)
	stalled.conn.Stall(Both)
	write(t, stalled.client, "held")
	p.Cut()
	if err := readErr(t, stalled.server); !ended(err) {
		t.Errorf("target read %v after a cut, want the end of the connection", err)
	}
	testutil.Closed(t, stalled.conn.Done(), "the stalled connection's Done")

	// The proxy still accepts.
	again := dial(t, p, tg, conns)
	write(t, again.client, "after")
	readFull(t, again.server, []byte("after"))
}

// TestReset resets both sides: each end's read fails with ECONNRESET.
func TestReset(t *testing.T) {
	tg := startTarget(t)
	p, conns := startProxy(t, tg)
	l := dial(t, p, tg, conns)
	write(t, l.client, "x")
	readFull(t, l.server, []byte("x"))
	p.Reset()
	for name, c := range map[string]net.Conn{"client": l.client, "target": l.server} {
		if err := readErr(t, c); !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("%s read %v after a reset, want ECONNRESET", name, err)
		}
	}
	testutil.Closed(t, l.conn.Done(), "the reset connection's Done")
}

// TestResetIsPassedOn resets the target's side itself: the proxy resets
// the client's side too.
func TestResetIsPassedOn(t *testing.T) {
	tg := startTarget(t)
	p, conns := startProxy(t, tg)
	l := dial(t, p, tg, conns)
	testutil.Must(t, l.server.SetLinger(0))
	l.server.Close()
	if err := readErr(t, l.client); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("client read %v after the target reset, want ECONNRESET", err)
	}
	testutil.Closed(t, l.conn.Done(), "the connection's Done")
}

// TestTargetDown: when the target refuses, the proxy resets the client.
func TestTargetDown(t *testing.T) {
	ln := testutil.Listen(t)
	addr := ln.Addr().String()
	ln.Close()
	p, err := New(addr)
	testutil.Must(t, err)
	defer p.Close()
	c, err := net.DialTimeout("tcp", p.Addr(), testutil.WaitTime)
	if err == nil {
		// The handshake completed before the reset came.
		defer c.Close()
		err = readErr(t, c)
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("client got %v, want ECONNRESET", err)
	}
}

// TestCloseWaits closes a proxy with open and stalled connections: both
// ends see them closed, the listener refuses, and no goroutine is left
// (goleak checks at the end of the package).
func TestCloseWaits(t *testing.T) {
	tg := startTarget(t)
	p, conns := startProxy(t, tg)
	a := dial(t, p, tg, conns)
	b := dial(t, p, tg, conns)
	b.conn.Stall(Both)
	write(t, b.client, "held")
	if n := len(p.Conns()); n != 2 {
		t.Fatalf("%d connections listed, want 2", n)
	}
	if got := p.Conns(); got[0] != a.conn || got[1] != b.conn {
		t.Error("Conns not in the order accepted")
	}
	testutil.Must(t, p.Close())
	for _, l := range []*link{a, b} {
		testutil.Closed(t, l.conn.Done(), "Done after Close")
		if err := readErr(t, l.client); !ended(err) {
			t.Errorf("client read %v after Close, want the end of the connection", err)
		}
	}
	if c, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		c.Close()
		t.Error("a closed proxy accepted a connection")
	}
	testutil.Must(t, p.Close())
}

func TestDirectionString(t *testing.T) {
	for d, want := range map[Direction]string{Upstream: "upstream", Downstream: "downstream", Both: "both", 0: "none", 8: "Direction(8)"} {
		if got := d.String(); got != want {
			t.Errorf("%d: %q, want %q", d, got, want)
		}
	}
}
