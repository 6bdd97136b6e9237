package reliability

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/tests/internal/faultproxy"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// faultPair is a typed server and a client connected to it through a
// fault proxy. Both ends handle Work; blocked Work handlers end when
// release is closed (at the end of the test at the latest) or their
// connection closes.
type faultPair struct {
	s          *typedServer
	p          *faultproxy.Proxy
	c          *typedClient
	sess       *base.Session // the server's session for c
	link       *faultproxy.Conn
	links      chan *faultproxy.Conn // every proxied connection, as it opens
	srvStarted chan int
	cliStarted chan int
	release    chan struct{}
	srvSeq     chan Seq // Seq messages the server received (while there is room)
	cliSeq     chan Seq // Seq messages the client received (while there is room)
	once       sync.Once
}

// unblock releases the blocked Work handlers.
func (fp *faultPair) unblock() { fp.once.Do(func() { close(fp.release) }) }

// newFaultPair starts the pair; opts apply to both ends, clientOpts to
// the client only.
func newFaultPair(t *testing.T, clientOpts []any, opts ...netmessage.Option) *faultPair {
	t.Helper()
	fp := &faultPair{
		srvStarted: make(chan int, 16), cliStarted: make(chan int, 16), release: make(chan struct{}),
		srvSeq: make(chan Seq, 64), cliSeq: make(chan Seq, 64),
		links: make(chan *faultproxy.Conn, 16),
	}
	var sopts, copts []any
	for _, o := range opts {
		sopts = append(sopts, o)
		copts = append(copts, o)
	}
	fp.s = startTypedServer(t, func(srv *netmessage.Mux) {
		handleWork(t, srv, fp.srvStarted, fp.release)
		testutil.Must(t, netmessage.HandleMessage(srv, func(_ context.Context, _ *base.Session, m Seq) { offer(fp.srvSeq, m) }))
		testutil.Must(t, netmessage.HandleRequest(srv, func(_ context.Context, _ *base.Session, e Echo) (EchoReply, error) {
			return EchoReply{Conn: e.Conn, N: e.N}, nil
		}))
	}, sopts...)
	var err error
	fp.p, err = faultproxy.New(fp.s.addr, faultproxy.OnConn(func(c *faultproxy.Conn) { fp.links <- c }))
	testutil.Must(t, err)
	t.Cleanup(func() { fp.p.Close() })
	fp.c = newTypedClient(t, func(cl *netmessage.Mux) {
		handleWork(t, cl, fp.cliStarted, fp.release)
		testutil.Must(t, netmessage.HandleMessage(cl, func(_ context.Context, _ *base.Session, m Seq) { offer(fp.cliSeq, m) }))
	}, append(copts, clientOpts...)...)
	fp.sess = fp.c.connect(t, fp.s, fp.p.Addr())
	fp.link = testutil.Recv(t, fp.links, "the proxied connection")
	t.Cleanup(fp.unblock)
	return fp
}

// offer sends v on ch unless ch is full: a streaming test does not read
// what it streams, and a hook must not block.
func offer[T any](ch chan<- T, v T) {
	select {
	case ch <- v:
	default:
	}
}

// outcome is how a call ended, and when.
type outcome struct {
	err error
	at  time.Time
}

// blockBothWays starts a blocking Work request in each direction and
// waits until both handlers run. The channels report how they end.
func (fp *faultPair) blockBothWays(t *testing.T) (fromClient, fromServer <-chan outcome) {
	t.Helper()
	call := func(p *base.Session, id int, started chan int) <-chan outcome {
		ch := make(chan outcome, 1)
		go func() {
			_, err := netmessage.Request(context.Background(), p, Work{ID: id, Block: true})
			ch <- outcome{err, time.Now()}
		}()
		testutil.Recv(t, started, fmt.Sprintf("handler of request %d to start", id))
		return ch
	}
	return call(fp.c.c.Session(), 1, fp.srvStarted), call(fp.sess, 2, fp.cliStarted)
}

// TestStalledLinkDetectedByBothEnds stalls the link both ways (a black
// hole: nothing is closed): each end detects it by its receive timeout
// and closes with ReasonConnectionLost, and a request pending in each
// direction fails at that moment with that *base.CloseError, long before
// its 10 s response timeout.
func TestStalledLinkDetectedByBothEnds(t *testing.T) {
	const interval, timeout = 100 * time.Millisecond, 800 * time.Millisecond
	fp := newFaultPair(t, nil, netmessage.WithTransport(base.WithHeartbeat(interval, timeout)))
	fromClient, fromServer := fp.blockBothWays(t)

	stalled := time.Now()
	fp.p.Stall(faultproxy.Both)
	cli := testutil.Recv(t, fp.c.closed, "the client to close")
	srv := testutil.Recv(t, fp.s.closed, "the server session to close")
	// An end last heard from the other at most about one heartbeat
	// interval before the stall.
	lo, hi := timeout-2*interval, timeout+tolerance
	for _, ev := range []struct {
		end string
		typedClose
	}{{"client", cli}, {"server", srv}} {
		if ev.reason != base.ReasonConnectionLost {
			t.Errorf("%s closed with %v, want %v", ev.end, ev.reason, base.ReasonConnectionLost)
		}
		testutil.Within(t, ev.end+" detecting the stall", ev.at.Sub(stalled), lo, hi)
	}
	for _, pc := range []struct {
		dir string
		ch  <-chan outcome
	}{{"client to server", fromClient}, {"server to client", fromServer}} {
		o := testutil.Recv(t, pc.ch, "the pending request "+pc.dir+" to fail")
		if !isCloseError(o.err, base.ReasonConnectionLost) {
			t.Errorf("pending request %s: %v, want the connection-lost *base.CloseError", pc.dir, o.err)
		}
		// It fails when the connection is closed.
		testutil.Within(t, "the pending request "+pc.dir, o.at.Sub(stalled), lo, hi)
	}
	t.Logf("receive timeout %v, heartbeat %v: stall detected by the client after %v, by the server after %v",
		timeout, interval, round(cli.at.Sub(stalled)), round(srv.at.Sub(stalled)))
	noErrorEvents(t, fp)
}

// noErrorEvents asserts that neither end raised an error event.
func noErrorEvents(t *testing.T, fp *faultPair) {
	t.Helper()
	select {
	case err := <-fp.s.errs:
		t.Errorf("server error event: %v", err)
	case err := <-fp.c.errs:
		t.Errorf("client error event: %v", err)
	default:
	}
}

// stream keeps both ends sending Seq messages until the connection
// closes, and returns a function that waits for the senders to stop.
func (fp *faultPair) stream(t *testing.T) (wait func()) {
	var wg sync.WaitGroup
	for _, p := range []*base.Session{fp.c.c.Session(), fp.sess} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pad := make([]byte, 512)
			for n := uint64(0); ; n++ {
				if err := netmessage.Send(context.Background(), p, Seq{N: n, Pad: pad}); err != nil {
					return
				}
			}
		}()
	}
	return func() {
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		testutil.Closed(t, done, "the senders to stop")
	}
}

// TestResetMidStream resets the link (an RST to both ends) while messages
// stream both ways and a request is pending in each direction: both ends
// close with ReasonNetworkError at once, with an error event whose cause
// is the reset, and the pending requests fail at once with a
// *base.CloseError.
func TestResetMidStream(t *testing.T) {
	fp := newFaultPair(t, nil)
	fromClient, fromServer := fp.blockBothWays(t)
	wait := fp.stream(t)
	defer wait()
	testutil.Eventually(t, "the stream to flow both ways", func() bool {
		return fp.link.Forwarded(faultproxy.Upstream) > 256<<10 && fp.link.Forwarded(faultproxy.Downstream) > 256<<10
	})

	reset := time.Now()
	fp.link.Reset()
	var lat durations
	var pendingErrs []string
	for _, end := range []struct {
		name   string
		closed chan typedClose
		errs   chan error
		req    <-chan outcome
	}{{"client", fp.c.closed, fp.c.errs, fromClient}, {"server", fp.s.closed, fp.s.errs, fromServer}} {
		ev := testutil.Recv(t, end.closed, "the "+end.name+" to close")
		if ev.reason != base.ReasonNetworkError {
			t.Errorf("%s closed with %v, want %v", end.name, ev.reason, base.ReasonNetworkError)
		}
		testutil.Within(t, end.name+" noticing the reset", ev.at.Sub(reset), 0, tolerance)
		lat = append(lat, ev.at.Sub(reset))
		if err := testutil.Recv(t, end.errs, "the "+end.name+"'s error event"); !isCloseError(err, base.ReasonNetworkError) || !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
			t.Errorf("%s error event %v, want a network-error close caused by the reset", end.name, err)
		}
		// The kernel reports a reset once: when the writer takes it, the
		// reader then sees the stream end (inside a packet or not), and
		// pending requests fail with that reason (graceful or protocol
		// error) a moment before the writer closes with a network error.
		o := testutil.Recv(t, end.req, "the "+end.name+"'s pending request to fail")
		if !isCloseError(o.err, base.ReasonNetworkError) && !isCloseError(o.err, base.ReasonGraceful) && !isCloseError(o.err, base.ReasonProtocolError) {
			t.Errorf("%s's pending request: %v, want a *base.CloseError", end.name, o.err)
		}
		testutil.Within(t, "the "+end.name+"'s pending request failing", o.at.Sub(reset), 0, tolerance)
		pendingErrs = append(pendingErrs, o.err.Error())
	}
	t.Logf("reset after %d bytes up, %d down: both ends closed %v after it; the pending requests failed with %q",
		fp.link.Forwarded(faultproxy.Upstream), fp.link.Forwarded(faultproxy.Downstream), lat, pendingErrs)
}

// TestCutLink cuts the link (the proxy closes both sides, as an
// intermediary that drops a connection does) with a request pending in
// each direction: to each end this is the peer ending its stream, so the
// pending requests fail at once with a *base.CloseError, and each end
// closes as soon as its running handler has returned.
func TestCutLink(t *testing.T) {
	fp := newFaultPair(t, nil)
	fromClient, fromServer := fp.blockBothWays(t)

	cut := time.Now()
	fp.link.Cut()
	for _, pc := range []struct {
		dir string
		ch  <-chan outcome
	}{{"client to server", fromClient}, {"server to client", fromServer}} {
		o := testutil.Recv(t, pc.ch, "the pending request "+pc.dir+" to fail")
		var ce *base.CloseError
		if !errors.As(o.err, &ce) || !errors.Is(o.err, base.ErrClosed) {
			t.Errorf("pending request %s: %v, want a *base.CloseError", pc.dir, o.err)
		}
		testutil.Within(t, "the pending request "+pc.dir+" failing", o.at.Sub(cut), 0, tolerance)
		t.Logf("pending request %s failed %v after the cut with %v", pc.dir, round(o.at.Sub(cut)), o.err)
	}
	// A graceful end waits for the running handlers (up to the
	// disconnect timeout): release them.
	released := time.Now()
	fp.unblock()
	for _, end := range []struct {
		name   string
		closed chan typedClose
	}{{"client", fp.c.closed}, {"server", fp.s.closed}} {
		ev := testutil.Recv(t, end.closed, "the "+end.name+" to close")
		if ev.reason != base.ReasonGraceful && ev.reason != base.ReasonNetworkError {
			t.Errorf("%s closed with %v, want graceful (the stream ended) or network error (its answer hit the closed socket)", end.name, ev.reason)
		}
		// (It may close sooner, when a heartbeat hits the closed socket.)
		testutil.Within(t, end.name+" closing after the cut", ev.at.Sub(cut), 0, released.Sub(cut)+tolerance)
		t.Logf("%s closed with %v", end.name, ev.reason.String())
	}
}
