package reliability

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// flow is one direction of one connection: the messages sent with a nil
// error and received, and the requests sent, answered, failed and
// handled.
type flow struct {
	name string

	sent     atomic.Uint64 // messages whose Send returned nil
	received atomic.Uint64 // messages delivered, each the next in order
	nextMsg  uint64        // the number the next message must carry (receiver only)

	answered atomic.Uint64
	failed   atomic.Uint64 // at most one: the requester stops at its first error
	handled  atomic.Uint64
	mu       sync.Mutex // handlers run in goroutines of their own
	nextReq  uint64     // the number the next request handled must carry
	slowest  atomic.Int64

	problems atomic.Int64  // reported errors, to cap the output
	progress chan struct{} // capacity 1: a message was received
}

// window is how many messages a flow may have sent and not yet received.
// It keeps the senders at the pace of the receivers: without it they
// would bury each request under the megabytes of messages that the
// kernel's socket buffers take, and the soak would measure those buffers.
const window = 64

func newFlow(name string) *flow {
	return &flow{name: name, progress: make(chan struct{}, 1)}
}

// await waits until the flow has room in its window or the connection
// (whose Done channel is done) has closed.
func (f *flow) await(done <-chan struct{}) {
	for f.sent.Load()-f.received.Load() >= window {
		select {
		case <-f.progress:
		case <-done:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// problem reports a broken promise, at most five times per flow.
func (f *flow) problem(t *testing.T, format string, args ...any) {
	if f.problems.Add(1) <= 5 {
		t.Errorf("%s: %s", f.name, fmt.Sprintf(format, args...))
	}
}

// deliver checks a received message: it must be the next in order.
func (f *flow) deliver(t *testing.T, conn int, m Seq) {
	if m.Conn != conn || m.N != f.nextMsg {
		f.problem(t, "received message %d of connection %d, want message %d of connection %d", m.N, m.Conn, f.nextMsg, conn)
	}
	f.nextMsg = m.N + 1
	f.received.Add(1)
	select {
	case f.progress <- struct{}{}:
	default:
	}
}

// handle checks a request in its handler: requests of a flow are sent one
// after another, so each must be the next in order, handled once.
func (f *flow) handle(t *testing.T, conn int, e Echo) EchoReply {
	f.mu.Lock()
	if e.Conn != conn || e.N != f.nextReq {
		f.problem(t, "handled request %d of connection %d, want request %d of connection %d", e.N, e.Conn, f.nextReq, conn)
	}
	f.nextReq = e.N + 1
	f.mu.Unlock()
	f.handled.Add(1)
	return EchoReply{Conn: e.Conn, N: e.N}
}

// soakPair is one connection of the soak: a client, the server's session
// for it, and a flow each way.
type soakPair struct {
	i        int
	c        *typedClient
	sess     *base.Session
	up, down *flow // client to server, server to client
	bcast    *flow // the server's broadcasts to this client
	leaving  atomic.Bool
}

// TestSoakNoLoss runs 100 connections (typed layer, msgpack) that send
// messages and requests both ways as fast as they can for the soak
// duration, then disconnect gracefully while still sending. It checks
// that every message whose Send returned nil arrived exactly once and in
// order, that every request got exactly one answer (the right one) or,
// once the disconnect had begun, one error matching base.ErrClosed, and
// that every connection closed gracefully on both ends.
//
// The write buffer and queue limits are small so that backpressure is
// part of the run. The duration is 10 s by default; see the package doc.
func TestSoakNoLoss(t *testing.T) {
	// The soak checks that nothing is lost or duplicated; liveness has
	// tests of its own (TestSoakUnderLoad among them). Generous timeouts
	// keep a machine too busy to run every goroutine in time from closing
	// connections.
	transport := netmessage.WithTransport(
		base.WithMaxWriteBuffer(32<<10),
		// Each received payload counts its decode bound too (msgpack:
		// 17 times its size plus 40 KiB), so 1 MiB holds some 25 small
		// packets per session: still backpressure, without handling a
		// session's packets one at a time.
		base.WithMaxQueuedBytes(1<<20),
		base.WithHeartbeat(time.Second, time.Minute),
		base.WithWriteTimeout(time.Minute),
		base.WithDisconnectTimeout(time.Minute),
		base.WithResponseTimeout(time.Minute), // a wait is a slow answer, not a lost one
	)
	r := soak(t, 100, soakDuration(t), false, transport)
	t.Log(r)
}

// soakResult sums up a soak.
type soakResult struct {
	conns    int
	took     time.Duration
	msgs     uint64 // messages received, broadcasts included
	answered uint64
	failed   uint64 // requests failed with ErrClosed during the disconnect
	slowest  time.Duration
}

func (r soakResult) String() string {
	return fmt.Sprintf("soak of %v, %d connections: %d messages (%.0f/s) and %d requests answered (%.0f/s), none lost or duplicated; %d requests failed with ErrClosed during the disconnect; slowest answer %v",
		round(r.took), r.conns, r.msgs, float64(r.msgs)/r.took.Seconds(), r.answered, float64(r.answered)/r.took.Seconds(),
		r.failed, round(r.slowest))
}

// soak runs conns connections with the given options for d, as
// TestSoakNoLoss describes, and checks its promises. With broadcast, the
// server also broadcasts numbered messages, which every client must
// receive all of, in order.
func soak(t *testing.T, conns int, d time.Duration, broadcast bool, opts ...netmessage.Option) soakResult {
	t.Helper()
	var srvOpts, clOpts []any
	for _, o := range opts {
		srvOpts, clOpts = append(srvOpts, o), append(clOpts, o)
	}
	// Sessions are told apart by ID: a handler that runs after its
	// session's closed event gets a *base.Session of its own.
	var pairs sync.Map // session ID -> *soakPair
	pairOf := func(s *base.Session) *soakPair {
		p, ok := pairs.Load(s.ID())
		if !ok {
			t.Errorf("packet on unknown session %d", s.ID())
			return nil
		}
		return p.(*soakPair)
	}
	s := startTypedServer(t, func(srv *netmessage.Mux) {
		testutil.Must(t, netmessage.HandleMessage(srv, func(_ context.Context, s *base.Session, m Seq) {
			if p := pairOf(s); p != nil {
				p.up.deliver(t, p.i, m)
			}
		}))
		testutil.Must(t, netmessage.HandleRequest(srv, func(_ context.Context, s *base.Session, e Echo) (EchoReply, error) {
			p := pairOf(s)
			if p == nil {
				return EchoReply{}, errors.New("unknown session")
			}
			return p.up.handle(t, p.i, e), nil
		}))
	}, srvOpts...)

	list := make([]*soakPair, conns)
	for i := range list {
		p := &soakPair{i: i, up: newFlow(fmt.Sprintf("connection %d client to server", i)),
			down:  newFlow(fmt.Sprintf("connection %d server to client", i)),
			bcast: newFlow(fmt.Sprintf("connection %d broadcasts", i))}
		p.c = newTypedClient(t, func(cl *netmessage.Mux) {
			testutil.Must(t, netmessage.HandleMessage(cl, func(_ context.Context, _ *base.Session, m Seq) { p.down.deliver(t, i, m) }))
			testutil.Must(t, netmessage.HandleMessage(cl, func(_ context.Context, _ *base.Session, m Tick) {
				p.bcast.deliver(t, i, Seq{Conn: i, N: m.N})
			}))
			testutil.Must(t, netmessage.HandleRequest(cl, func(_ context.Context, _ *base.Session, e Echo) (EchoReply, error) {
				return p.down.handle(t, i, e), nil
			}))
		}, clOpts...)
		p.sess = p.c.connect(t, s, s.addr)
		pairs.Store(p.sess.ID(), p)
		list[i] = p
	}

	// Four senders per connection: messages and requests, each way.
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, p := range list {
		for _, dir := range []struct {
			from *base.Session
			f    *flow
			done <-chan struct{}
		}{{p.c.c.Session(), p.up, p.c.c.Session().Done()}, {p.sess, p.down, p.sess.Done()}} {
			wg.Add(2)
			go func() {
				defer wg.Done()
				<-start
				for n := uint64(0); ; n++ {
					dir.f.await(dir.done)
					if err := netmessage.Send(context.Background(), dir.from, Seq{Conn: p.i, N: n}); err != nil {
						if !p.leaving.Load() || !errors.Is(err, base.ErrClosed) {
							dir.f.problem(t, "Send of message %d: %v", n, err)
						}
						return
					}
					dir.f.sent.Add(1)
				}
			}()
			go func() {
				defer wg.Done()
				<-start
				for n := uint64(0); ; n++ {
					began := time.Now()
					r, err := netmessage.Request(context.Background(), dir.from, Echo{Conn: p.i, N: n})
					if err != nil {
						if !p.leaving.Load() || !errors.Is(err, base.ErrClosed) {
							dir.f.problem(t, "request %d: %v", n, err)
						}
						dir.f.failed.Add(1)
						return
					}
					if r.Conn != p.i || r.N != n {
						dir.f.problem(t, "request %d of connection %d answered with %+v", n, p.i, r)
					}
					dir.f.answered.Add(1)
					if took := int64(time.Since(began)); took > dir.f.slowest.Load() {
						dir.f.slowest.Store(took)
					}
				}
			}()
		}
	}
	// One broadcaster, paced by the slowest client: a broadcast whose
	// Broadcast returned nil is counted as sent to every client.
	stopBroadcast, broadcastDone := make(chan struct{}), make(chan struct{})
	if !broadcast {
		close(broadcastDone)
	} else {
		go func() {
			defer close(broadcastDone)
			<-start
			for n := uint64(0); ; n++ {
				for _, p := range list {
					p.bcast.await(p.sess.Done())
				}
				select {
				case <-stopBroadcast:
					return
				default:
				}
				if err := netmessage.Broadcast(context.Background(), s.srv, Tick{N: n}); err != nil {
					t.Errorf("Broadcast of message %d: %v", n, err)
					return
				}
				for _, p := range list {
					p.bcast.sent.Add(1)
				}
			}
		}()
	}
	began := time.Now()
	close(start)
	time.Sleep(d) // the soak runs
	close(stopBroadcast)
	testutil.Recv(t, broadcastDone, "the broadcaster to stop")

	// Disconnect every client gracefully while its senders still send.
	disconnected := make(chan error, conns)
	for _, p := range list {
		go func() {
			p.leaving.Store(true)
			disconnected <- p.c.c.Disconnect(context.Background())
		}()
	}
	for range conns {
		if err := testutil.Recv(t, disconnected, "Disconnect to return"); err != nil {
			t.Errorf("Disconnect: %v", err)
		}
	}
	took := time.Since(began)
	senders := make(chan struct{})
	go func() { wg.Wait(); close(senders) }()
	testutil.Recv(t, senders, "the senders to stop")
	// The closed hooks run after every message was delivered.
	for range conns {
		if ev := testutil.Recv(t, s.closed, "a server session to close"); ev.reason != base.ReasonGraceful {
			t.Errorf("server session closed with %v, want graceful", ev.reason.String())
		}
	}
	for _, p := range list {
		if ev := testutil.Recv(t, p.c.closed, "a client to close"); ev.reason != base.ReasonGraceful {
			t.Errorf("client %d closed with %v, want graceful", p.i, ev.reason.String())
		}
	}

	var msgs, answered, failed uint64
	var slowest time.Duration
	for _, p := range list {
		if broadcast {
			if sent, got := p.bcast.sent.Load(), p.bcast.received.Load(); got != sent || sent == 0 {
				p.bcast.problem(t, "%d broadcasts sent, %d received", sent, got)
			}
			msgs += p.bcast.received.Load()
		}
		for _, f := range []*flow{p.up, p.down} {
			sent, got := f.sent.Load(), f.received.Load()
			if got != sent {
				f.problem(t, "%d messages sent, %d received", sent, got)
			}
			a, e, h := f.answered.Load(), f.failed.Load(), f.handled.Load()
			// An answered request was handled once; a failed one at most once.
			if h < a || h > a+e {
				f.problem(t, "%d requests answered, %d failed, %d handled", a, e, h)
			}
			if a == 0 || sent == 0 {
				f.problem(t, "no traffic: %d messages, %d requests answered", sent, a)
			}
			msgs += got
			answered += a
			failed += e
			slowest = max(slowest, time.Duration(f.slowest.Load()))
		}
	}
	select {
	case err := <-s.errs:
		t.Errorf("server error event: %v", err)
	default:
	}
	for _, p := range list {
		for len(p.c.errs) > 0 {
			t.Errorf("client %d error event: %v", p.i, <-p.c.errs)
		}
	}
	return soakResult{conns: conns, took: took, msgs: msgs, answered: answered, failed: failed, slowest: slowest}
}
