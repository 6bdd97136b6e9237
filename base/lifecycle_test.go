package base_test

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// sender is what a Session and a Client share for sending.
type sender interface {
	SendMessage(context.Context, []byte) error
	Request(context.Context, []byte) ([]byte, error)
}

// assertClosedCalls checks that sends and requests on closed ends fail with
// a *CloseError of the reason, which matches base.ErrClosed.
func assertClosedCalls(t *testing.T, reason base.CloseReason, ends map[string]sender) {
	t.Helper()
	for name, s := range ends {
		closeErr(t, name+" SendMessage after close", s.SendMessage(ctxT(t), []byte("x")), reason)
		_, err := s.Request(ctxT(t), []byte("x"))
		closeErr(t, name+" Request after close", err, reason)
	}
}

func TestGracefulDisconnectFromEitherEnd(t *testing.T) {
	for _, by := range []string{"client", "server", "session of client", "both at once"} {
		t.Run(by, func(t *testing.T) {
			p := newPair(t,
				[]base.ServerOption{base.OnRequest(echo)},
				[]base.ClientOption{base.OnRequest(echo)})
			ctx := ctxT(t)
			if resp, err := p.client.Request(ctx, []byte("hi")); err != nil || string(resp) != "echo:hi" {
				t.Fatalf("request before: %q, %v", resp, err)
			}
			switch by {
			case "client":
				if err := p.client.Disconnect(ctx); err != nil {
					t.Fatalf("Client.Disconnect: %v", err)
				}
			case "session of client":
				if err := p.cliSess.Disconnect(ctx); err != nil {
					t.Fatalf("Session.Disconnect: %v", err)
				}
			case "server":
				if err := p.srvSess.Disconnect(ctx); err != nil {
					t.Fatalf("server Session.Disconnect: %v", err)
				}
			case "both at once":
				var wg sync.WaitGroup
				for _, s := range []*base.Session{p.cliSess, p.srvSess} {
					wg.Go(func() {
						if err := s.Disconnect(ctx); err != nil {
							t.Errorf("Disconnect: %v", err)
						}
					})
				}
				wg.Wait()
			}
			if r := receive(t, p.cliRec.closed, "client closed"); r != base.ReasonGraceful {
				t.Errorf("client reason %v, want %v", r, base.ReasonGraceful)
			}
			if r := receive(t, p.srvRec.closed, "server closed"); r != base.ReasonGraceful {
				t.Errorf("server reason %v, want %v", r, base.ReasonGraceful)
			}
			// A graceful close is no error event.
			none(t, p.cliRec.errs, "client error")
			none(t, p.srvRec.errs, "server error")
			closeErr(t, "client Err", p.cliSess.Err(), base.ReasonGraceful)
			closeErr(t, "server Err", p.srvSess.Err(), base.ReasonGraceful)
			assertClosedCalls(t, base.ReasonGraceful, map[string]sender{
				"client": p.client, "client session": p.cliSess, "server session": p.srvSess,
			})
			if got := p.srv.Sessions(); len(got) != 0 {
				t.Errorf("Sessions after close: %d", len(got))
			}
			select {
			case <-p.cliSess.Done():
			case <-time.After(waitTime):
				t.Fatal("client session not done")
			}
		})
	}
}

func TestCloseReportsClosedLocally(t *testing.T) {
	p := newPair(t, nil, nil)
	if err := p.client.Close(); err != nil {
		t.Fatal(err)
	}
	if r := receive(t, p.cliRec.closed, "client closed"); r != base.ReasonClosedLocally {
		t.Errorf("client reason %v", r)
	}
	receive(t, p.srvRec.closed, "server closed")
	closeErr(t, "client Err", p.cliSess.Err(), base.ReasonClosedLocally)
	assertClosedCalls(t, base.ReasonClosedLocally, map[string]sender{"client": p.client})
	// Disconnect after Close reports how it closed; Close again is a no-op.
	closeErr(t, "Disconnect after Close", p.client.Disconnect(ctxT(t)), base.ReasonClosedLocally)
	if err := p.client.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestConnectTwice(t *testing.T) {
	p := newPair(t, []base.ServerOption{base.OnRequest(echo)}, nil)
	ctx := ctxT(t)
	if err := p.client.Connect(ctx, p.addr); !errors.Is(err, base.ErrAlreadyConnected) {
		t.Fatalf("second Connect: %v, want ErrAlreadyConnected", err)
	}
	none(t, p.cliRec.opened, "second connected event")
	none(t, p.srvRec.opened, "second session")
	if p.client.Session() != p.cliSess {
		t.Fatal("second Connect replaced the session")
	}
	if resp, err := p.client.Request(ctx, []byte("a")); err != nil || string(resp) != "echo:a" {
		t.Fatalf("request on first connection: %q, %v", resp, err)
	}

	if err := p.client.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	receive(t, p.cliRec.closed, "client closed")
	receive(t, p.srvRec.closed, "server closed")
	if err := p.client.Connect(ctx, p.addr); err != nil {
		t.Fatalf("Connect after disconnect: %v", err)
	}
	s2 := receive(t, p.cliRec.opened, "client connected again")
	receive(t, p.srvRec.opened, "second session")
	if s2 == p.cliSess || p.client.Session() != s2 {
		t.Fatal("reconnect did not make a new session")
	}
	if resp, err := p.client.Request(ctx, []byte("b")); err != nil || string(resp) != "echo:b" {
		t.Fatalf("request after reconnect: %q, %v", resp, err)
	}
}

func TestConnectConcurrent(t *testing.T) {
	srvRec := newRecorder()
	addr := serve(t, base.NewServer(native.New, srvRec.server()...))
	rec := newRecorder()
	c := base.NewClient(native.New, rec.client()...)
	t.Cleanup(func() { c.Close() })
	if err := c.SendMessage(ctxT(t), nil); !errors.Is(err, base.ErrNotConnected) {
		t.Fatalf("SendMessage before Connect: %v", err)
	}
	if err := c.Disconnect(ctxT(t)); !errors.Is(err, base.ErrNotConnected) {
		t.Fatalf("Disconnect before Connect: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close before Connect: %v", err)
	}

	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() { errs <- c.Connect(ctxT(t), addr) }()
	}
	ok := 0
	for range n {
		switch err := receive(t, errs, "Connect result"); {
		case err == nil:
			ok++
		case !errors.Is(err, base.ErrAlreadyConnected):
			t.Errorf("Connect: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent Connects succeeded, want 1", ok)
	}
	receive(t, rec.opened, "connected")
	receive(t, srvRec.opened, "session opened")
	none(t, rec.opened, "second connected event")
	none(t, srvRec.opened, "second session")
}

// Close or Disconnect during Connect stops it: Connect fails with
// ErrConnectStopped and no connection opens, whether the dial honours its
// context or finishes regardless.
func TestStopConnectUnderWay(t *testing.T) {
	srvRec := newRecorder()
	addr := serve(t, base.NewServer(native.New, srvRec.server()...))
	for _, tc := range []struct {
		name   string
		stop   func(c *base.Client) error
		honour bool // the dialer returns when its context ends
	}{
		{"close, dial honours ctx", func(c *base.Client) error { return c.Close() }, true},
		{"close, dial ignores ctx", func(c *base.Client) error { return c.Close() }, false},
		{"disconnect, dial honours ctx", func(c *base.Client) error { return c.Disconnect(context.Background()) }, true},
		{"disconnect, dial ignores ctx", func(c *base.Client) error { return c.Disconnect(context.Background()) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dialing := make(chan struct{})
			release := make(chan struct{})
			var d net.Dialer
			rec := newRecorder()
			c := base.NewClient(native.New, rec.client(base.WithDialer(func(ctx context.Context, network, a string) (net.Conn, error) {
				close(dialing)
				if tc.honour {
					select {
					case <-ctx.Done():
						return nil, ctx.Err()
					case <-release:
					}
				} else {
					<-release
				}
				return d.DialContext(context.Background(), network, a)
			}))...)
			t.Cleanup(func() { c.Close() })
			done := make(chan error, 1)
			go func() { done <- c.Connect(ctxT(t), addr) }()
			<-dialing
			if err := tc.stop(c); err != nil {
				t.Fatalf("stop: %v", err)
			}
			close(release)
			if err := receive(t, done, "Connect result"); !errors.Is(err, base.ErrConnectStopped) {
				t.Fatalf("Connect: %v, want ErrConnectStopped", err)
			}
			if c.Session() != nil {
				t.Fatal("a session opened after the stop")
			}
			none(t, rec.opened, "connected event")
			if _, err := c.ActiveSession(); !errors.Is(err, base.ErrNotConnected) {
				t.Fatalf("ActiveSession: %v", err)
			}
		})
	}
	// A Connect that was stopped leaves the client usable.
	rec := newRecorder()
	c := base.NewClient(native.New, rec.client(base.OnRequest(echo))...)
	t.Cleanup(func() { c.Close() })
	if err := c.Connect(ctxT(t), addr); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	receive(t, rec.opened, "connected")
}

func TestVerifierRejects(t *testing.T) {
	var calls atomic.Int32
	var seen sync.Map // remote addresses the verifier saw
	p := newPair(t, []base.ServerOption{
		base.OnRequest(echo),
		base.WithVerifier(func(conn net.Conn) error {
			seen.Store(conn.RemoteAddr().String(), true)
			if calls.Add(1) == 2 {
				return errors.New("go away")
			}
			return nil
		}),
	}, nil)

	rec := newRecorder()
	rejected := base.NewClient(native.New, rec.client()...)
	t.Cleanup(func() { rejected.Close() })
	if err := rejected.Connect(ctxT(t), p.addr); err != nil {
		t.Fatal(err) // TCP connects; the server closes it after vetting
	}
	rs := receive(t, rec.opened, "rejected client connected")
	receive(t, rec.closed, "rejected client closed")
	if _, ok := seen.Load(rs.LocalAddr().String()); !ok {
		t.Error("the verifier did not see the rejected connection")
	}
	none(t, p.srvRec.opened, "session for rejected connection")
	if n := len(p.srv.Sessions()); n != 1 {
		t.Errorf("%d sessions, want 1", n)
	}

	// The first client still works, and a later one is accepted.
	if resp, err := p.client.Request(ctxT(t), []byte("1")); err != nil || string(resp) != "echo:1" {
		t.Fatalf("first client: %q, %v", resp, err)
	}
	c3, _, _ := connect(t, p.addr, newRecorder(), p.srvRec)
	if resp, err := c3.Request(ctxT(t), []byte("3")); err != nil || string(resp) != "echo:3" {
		t.Fatalf("later client: %q, %v", resp, err)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("verifier called %d times, want 3", n)
	}
}

func TestMaxSessions(t *testing.T) {
	p := newPair(t, []base.ServerOption{base.OnRequest(echo), base.WithMaxSessions(1)}, nil)

	rec := newRecorder()
	refused := base.NewClient(native.New, rec.client()...)
	t.Cleanup(func() { refused.Close() })
	if err := refused.Connect(ctxT(t), p.addr); err != nil {
		t.Fatal(err)
	}
	receive(t, rec.opened, "refused client connected")
	receive(t, rec.closed, "refused client closed")
	err := receive(t, p.srvRec.errs, "server error event")
	if !errors.Is(err, base.ErrTooManySessions) || !errors.Is(err, base.ReasonAcceptError) {
		t.Fatalf("error event %v, want ErrTooManySessions with ReasonAcceptError", err)
	}
	none(t, p.srvRec.opened, "session past the limit")
	if resp, err := p.client.Request(ctxT(t), []byte("x")); err != nil || string(resp) != "echo:x" {
		t.Fatalf("first client: %q, %v", resp, err)
	}

	// Once the first session has closed, there is room again.
	if err := p.client.Disconnect(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	receive(t, p.srvRec.closed, "first session closed")
	c, _, _ := connect(t, p.addr, newRecorder(), p.srvRec)
	if resp, err := c.Request(ctxT(t), []byte("y")); err != nil || string(resp) != "echo:y" {
		t.Fatalf("client after room: %q, %v", resp, err)
	}
}

func TestSessionLookup(t *testing.T) {
	p := newPair(t, nil, nil)
	_, cs2, s2 := connect(t, p.addr, newRecorder(), p.srvRec)
	s1 := p.srvSess

	if p.cliSess.ID() != 0 || cs2.ID() != 0 {
		t.Errorf("client session ids %d, %d, want 0", p.cliSess.ID(), cs2.ID())
	}
	if s1.ID() == 0 || s2.ID() <= s1.ID() {
		t.Errorf("server session ids %d, %d, want increasing from 1", s1.ID(), s2.ID())
	}
	if got := p.srv.Sessions(); !slices.Equal(got, []*base.Session{s1, s2}) {
		t.Errorf("Sessions() = %v, want [s1 s2]", got)
	}
	if p.srv.Session(s1.ID()) != s1 || p.srv.Session(s2.ID()) != s2 {
		t.Error("Session(id) does not find the sessions")
	}
	if p.srv.Session(0) != nil || p.srv.Session(s2.ID()+100) != nil {
		t.Error("Session(unknown id) is not nil")
	}
	if s1.RemoteAddr().String() != p.cliSess.LocalAddr().String() ||
		s1.LocalAddr().String() != p.cliSess.RemoteAddr().String() {
		t.Error("addresses of the two ends do not match")
	}
	if s1.NetConn() == nil || s1.Context().Err() != nil || s1.Err() != nil {
		t.Error("open session: NetConn nil, Context done or Err set")
	}

	if err := p.client.Disconnect(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	receive(t, p.srvRec.closed, "first session closed")
	if p.srv.Session(s1.ID()) != nil {
		t.Error("closed session still found")
	}
	if got := p.srv.Sessions(); !slices.Equal(got, []*base.Session{s2}) {
		t.Errorf("Sessions() after close = %v, want [s2]", got)
	}
	if s1.Context().Err() == nil {
		t.Error("closed session's Context not done")
	}
}

func TestServerClose(t *testing.T) {
	p := newPair(t, nil, nil)
	_, _, s2 := connect(t, p.addr, newRecorder(), p.srvRec)

	if err := p.srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Close returns once the readers and writers stopped: Err is set.
	closeErr(t, "session 1 Err", p.srvSess.Err(), base.ReasonServerShutdown)
	closeErr(t, "session 2 Err", s2.Err(), base.ReasonServerShutdown)
	for range 2 {
		if r := receive(t, p.srvRec.closed, "session closed"); r != base.ReasonServerShutdown {
			t.Errorf("server reason %v, want %v", r, base.ReasonServerShutdown)
		}
	}
	receive(t, p.cliRec.closed, "client closed")
	receive(t, p.served.done, "Serve to return")
	if p.served.err != base.ErrServerClosed {
		t.Errorf("Serve returned %v, want ErrServerClosed", p.served.err)
	}
	if conn, err := net.DialTimeout("tcp", p.addr, waitTime); err == nil {
		conn.Close()
		t.Error("dial after Close succeeded")
	}
	// Serving again is refused, and the listener is closed.
	ln := listen(t)
	if err := p.srv.Serve(ln); err != base.ErrServerClosed {
		t.Errorf("Serve after Close: %v", err)
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("listener after refused Serve: %v", err)
	}
	if err := p.srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := p.srv.Shutdown(ctxT(t)); err != nil {
		t.Errorf("Shutdown after Close: %v", err)
	}
}

func TestShutdownAnswersInFlight(t *testing.T) {
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	p := newPair(t, []base.ServerOption{
		base.OnRequest(func(_ context.Context, _ *base.Session, q []byte) []byte {
			if string(q) == "slow" {
				started <- struct{}{}
				<-release
			}
			return append([]byte("done:"), q...)
		}),
	}, nil)
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })

	type reply struct {
		resp []byte
		err  error
	}
	replies := make(chan reply, 1)
	go func() {
		resp, err := p.client.Request(context.Background(), []byte("slow"))
		replies <- reply{resp, err}
	}()
	receive(t, started, "handler started")

	shut := make(chan error, 1)
	go func() { shut <- p.srv.Shutdown(ctxT(t)) }()

	// The listener is closed at once: Serve returns, new clients are refused,
	// while the request is still being handled.
	receive(t, p.served.done, "Serve to return")
	if p.served.err != base.ErrServerClosed {
		t.Errorf("Serve returned %v", p.served.err)
	}
	late := base.NewClient(native.New)
	if err := late.Connect(ctxT(t), p.addr); err == nil {
		late.Close()
		t.Error("Connect during Shutdown succeeded")
	}
	none(t, p.srvRec.opened, "session opened during Shutdown")
	select {
	case r := <-replies:
		t.Fatalf("request returned before its handler: %q, %v", r.resp, r.err)
	case err := <-shut:
		t.Fatalf("Shutdown returned before the handler: %v", err)
	default:
	}

	once.Do(func() { close(release) })
	r := receive(t, replies, "in-flight reply")
	if r.err != nil || string(r.resp) != "done:slow" {
		t.Fatalf("in-flight request: %q, %v", r.resp, r.err)
	}
	if err := receive(t, shut, "Shutdown"); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if r := receive(t, p.srvRec.closed, "server closed"); r != base.ReasonGraceful {
		t.Errorf("server reason %v, want graceful", r)
	}
	if r := receive(t, p.cliRec.closed, "client closed"); r != base.ReasonGraceful {
		t.Errorf("client reason %v, want graceful", r)
	}
	if n := len(p.srv.Sessions()); n != 0 {
		t.Errorf("%d sessions after Shutdown", n)
	}
}

// A verifier blocked reading its connection (a TLS handshake with a silent
// peer, say) must not hold up Close or Shutdown.
func TestCloseWithVerifierBlocked(t *testing.T) {
	for _, how := range []string{"Close", "Shutdown"} {
		t.Run(how, func(t *testing.T) {
			vetting := make(chan struct{}, 1)
			srv := base.NewServer(native.New, base.WithVerifier(func(conn net.Conn) error {
				vetting <- struct{}{}
				_, err := io.ReadFull(conn, make([]byte, 1))
				return err
			}))
			addr, sv := serveAsync(t, srv)
			dialRaw(t, addr) // connects and stays silent
			receive(t, vetting, "verifier running")

			done := make(chan error, 1)
			go func() {
				if how == "Close" {
					done <- srv.Close()
					return
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				done <- srv.Shutdown(ctx)
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("%s: %v", how, err)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s blocked by a verifier waiting on a silent connection", how)
			}
			receive(t, sv.done, "Serve to return")
		})
	}
}
