package base_test

import (
	"errors"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// fastBackoff keeps reconnect tests quick.
var fastBackoff = base.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond}

// attempt is one OnReconnecting call.
type attempt struct {
	n     int
	delay time.Duration
	err   error
}

// redialRec collects a client's reconnect events; the connected and
// disconnected events go to the client's recorder, and every event to its
// ordered log.
type redialRec struct {
	rec         *recorder
	attempts    chan attempt
	reconnected chan *base.Session
	failed      chan error
}

func newRedialRec(rec *recorder) *redialRec {
	return &redialRec{
		rec:         rec,
		attempts:    make(chan attempt, 256),
		reconnected: make(chan *base.Session, 16),
		failed:      make(chan error, 4),
	}
}

// options returns the client options of rec, reconnecting with b.
func (r *redialRec) options(b base.Backoff, opts ...base.ClientOption) []base.ClientOption {
	all := append([]base.ClientOption{
		base.WithReconnect(b),
		base.OnReconnecting(func(n int, d time.Duration, err error) {
			r.rec.log("reconnecting:%d", n)
			r.attempts <- attempt{n, d, err}
		}),
		base.OnReconnected(func(s *base.Session) { r.rec.log("reconnected"); r.reconnected <- s }),
		base.OnReconnectFailed(func(err error) { r.rec.log("gave up"); r.failed <- err }),
	}, opts...)
	return r.rec.client(all...)
}

// listenOn listens on addr, retrying while the port is still taken (the
// previous server's listener may be closing).
func listenOn(t *testing.T, addr string) net.Listener {
	t.Helper()
	deadline := time.Now().Add(waitTime)
	for {
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			return ln
		}
		if !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			t.Fatalf("listen on %s again: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serveOn serves srv on ln until the test ends or srv is closed.
func serveOn(t *testing.T, srv *base.Server, ln net.Listener) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != base.ErrServerClosed {
			t.Errorf("Serve: %v", err)
		}
	})
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln := listen(t)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// reconnectLoops counts the goroutines running a client's reconnect loop.
// One that has ended its work may still be counted for a moment: see
// loopsGone.
func reconnectLoops() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "base.(*Client).reconnect(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// assertNotConnected checks the error of a send while the client has no
// open connection after a connection closed with reason.
func assertNotConnected(t *testing.T, what string, err error, reason base.CloseReason, reconnecting bool) {
	t.Helper()
	var ce *base.CloseError
	if !errors.Is(err, base.ErrNotConnected) || !errors.Is(err, base.ErrClosed) ||
		!errors.Is(err, reason) || !errors.As(err, &ce) {
		t.Fatalf("%s: %v, want ErrNotConnected with a *CloseError of %v", what, err, reason)
	}
	if got := strings.Contains(err.Error(), "reconnecting"); got != reconnecting {
		t.Errorf("%s: %q mentions reconnecting: %v, want %v", what, err, got, reconnecting)
	}
}

// TestReconnectAfterServerRestart stops the server and starts a new one on
// the same address: the client reconnects, with events in order, fails
// sends fast meanwhile, and works afterwards.
func TestReconnectAfterServerRestart(t *testing.T) {
	for _, secure := range []bool{false, true} {
		name := "plain"
		if secure {
			name = "TLS"
		}
		t.Run(name, func(t *testing.T) {
			var sopts []base.ServerOption
			var copts []base.ClientOption
			if secure {
				pki := newPKI(t)
				sopts = append(sopts, base.WithTLS(pki.serverConfig(false)))
				copts = append(copts, base.WithTLS(pki.clientConfig(false)))
			}
			srvRec := newRecorder()
			srv1 := base.NewServer(native.New, srvRec.server(append(sopts, base.OnRequest(echo))...)...)
			ln := listen(t)
			addr := ln.Addr().String()
			serveOn(t, srv1, ln)

			rec := newRecorder()
			rr := newRedialRec(rec)
			c := base.NewClient(native.New, rr.options(fastBackoff, append(copts, base.OnRequest(echo))...)...)
			t.Cleanup(func() { c.Close() })
			if err := c.Connect(ctxT(t), addr); err != nil {
				t.Fatal(err)
			}
			first := receive(t, rec.opened, "connected")
			receive(t, srvRec.opened, "first session")
			if secure && first.TLS() == nil {
				t.Fatal("TLS client session without TLS state")
			}

			srv1.Close()
			reason := receive(t, rec.closed, "disconnected")
			a := receive(t, rr.attempts, "reconnecting")
			if a.n != 1 || !errors.Is(a.err, reason) || a.err != first.Err() {
				t.Fatalf("first attempt %d with %v, want 1 with the lost session's error %v", a.n, a.err, first.Err())
			}

			// While the server is gone: sends fail at once, Connect refuses.
			start := time.Now()
			assertNotConnected(t, "SendMessage", c.SendMessage(ctxT(t), []byte("x")), reason, true)
			_, err := c.Request(ctxT(t), []byte("x"))
			assertNotConnected(t, "Request", err, reason, true)
			if _, err := c.ActiveSession(); !errors.Is(err, base.ErrNotConnected) {
				t.Errorf("ActiveSession: %v", err)
			}
			within(t, "sends while reconnecting", time.Since(start), 0, 500*time.Millisecond)
			if err := c.Connect(ctxT(t), addr); !errors.Is(err, base.ErrAlreadyConnected) {
				t.Errorf("Connect while reconnecting: %v, want ErrAlreadyConnected", err)
			}
			if c.Session() != first {
				t.Error("Session() while reconnecting is not the lost session")
			}
			// Attempts against the closed port fail and go on.
			a = receive(t, rr.attempts, "second attempt")
			if a.n != 2 || a.err == nil || errors.Is(a.err, base.ErrClosed) {
				t.Fatalf("second attempt %d with %v, want 2 with a dial error", a.n, a.err)
			}

			srv2 := base.NewServer(native.New, srvRec.server(append(sopts, base.OnRequest(echo))...)...)
			serveOn(t, srv2, listenOn(t, addr))
			second := receive(t, rec.opened, "connected again")
			if got := receive(t, rr.reconnected, "reconnected"); got != second || got == first {
				t.Fatalf("reconnected with %p, want the new session %p", got, second)
			}
			srvSess := receive(t, srvRec.opened, "session on the new server")
			if c.Session() != second {
				t.Error("Session() is not the new session")
			}
			if resp, err := c.Request(ctxT(t), []byte("after")); err != nil || string(resp) != "echo:after" {
				t.Fatalf("request after reconnecting: %q, %v", resp, err)
			}
			// The client's handlers serve the new connection.
			if resp, err := srvSess.Request(ctxT(t), []byte("back")); err != nil || string(resp) != "echo:back" {
				t.Fatalf("request to the client after reconnecting: %q, %v", resp, err)
			}
			if secure && second.TLS() == nil {
				t.Error("reconnected TLS session without TLS state")
			}

			// Order: each connection's events, then the attempts, then the
			// new connection's connected and reconnected events.
			log := rec.eventLog()
			i := slicesIndex(log, "reconnecting:1")
			if i < 2 || log[0] != "opened" || !strings.HasPrefix(log[i-1], "closed:") && !strings.HasPrefix(log[i-1], "error:") {
				t.Errorf("events %q: want opened, closed (and error), then reconnecting", log)
			}
			if j := slicesIndex(log, "reconnected"); j < 1 || log[j-1] != "opened" || j < i {
				t.Errorf("events %q: want the reconnected event right after the second opened event", log)
			}

			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if reason := receive(t, rec.closed, "closed"); reason != base.ReasonClosedLocally {
				t.Errorf("closed with %v", reason)
			}
			none(t, rr.attempts, "attempt after Close")
			loopsGone(t, 100*time.Millisecond)
		})
	}
}

func slicesIndex(list []string, v string) int {
	for i, s := range list {
		if s == v {
			return i
		}
	}
	return -1
}

// wrongPreface is the native protocol with a preface the native protocol
// rejects, to make the peer close with a protocol error.
type wrongPreface struct{ base.Protocol }

func (wrongPreface) Preface() []byte { return []byte("JUNK\x01") }

// TestReconnectAfterEachKindOfLoss: every close not asked for on this end
// leads to reconnecting, and the reconnected client works.
func TestReconnectAfterEachKindOfLoss(t *testing.T) {
	type env struct {
		srv     *base.Server
		srvSess *base.Session
		addr    string
		srvRec  *recorder
		sopts   []base.ServerOption
	}
	cases := []struct {
		name    string
		sopts   []base.ServerOption
		copts   []base.ClientOption
		proto   func() func() base.Protocol
		cut     func(t *testing.T, e *env)
		restart bool
		reasons []base.CloseReason
	}{
		{name: "server shutdown", restart: true, reasons: []base.CloseReason{base.ReasonGraceful},
			cut: func(t *testing.T, e *env) {
				if err := e.srv.Shutdown(ctxT(t)); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "server close", restart: true,
			reasons: []base.CloseReason{base.ReasonGraceful, base.ReasonNetworkError},
			cut:     func(t *testing.T, e *env) { e.srv.Close() }},
		{name: "peer disconnects", reasons: []base.CloseReason{base.ReasonGraceful},
			cut: func(t *testing.T, e *env) {
				if err := e.srvSess.Disconnect(ctxT(t)); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "connection reset", reasons: []base.CloseReason{base.ReasonNetworkError},
			cut: func(t *testing.T, e *env) {
				if err := e.srvSess.NetConn().(*net.TCPConn).SetLinger(0); err != nil {
					t.Fatal(err)
				}
				e.srvSess.Close()
			}},
		{name: "connection lost", reasons: []base.CloseReason{base.ReasonConnectionLost},
			sopts: []base.ServerOption{base.WithHeartbeat(0, 0)},
			copts: []base.ClientOption{base.WithHeartbeat(50*time.Millisecond, 300*time.Millisecond)},
			cut:   func(t *testing.T, e *env) {}},
		{name: "protocol error", reasons: []base.CloseReason{base.ReasonProtocolError},
			proto: func() func() base.Protocol {
				var n atomic.Int32
				return func() base.Protocol {
					if n.Add(1) == 1 {
						return wrongPreface{native.New()}
					}
					return native.New()
				}
			},
			cut: func(t *testing.T, e *env) {}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{srvRec: newRecorder()}
			newProto := native.New
			if tc.proto != nil {
				newProto = tc.proto()
			}
			e.sopts = e.srvRec.server(append(tc.sopts, base.OnRequest(echo))...)
			e.srv = base.NewServer(newProto, e.sopts...)
			ln := listen(t)
			e.addr = ln.Addr().String()
			serveOn(t, e.srv, ln)
			rec := newRecorder()
			rr := newRedialRec(rec)
			c := base.NewClient(native.New, rr.options(fastBackoff, tc.copts...)...)
			t.Cleanup(func() { c.Close() })
			if err := c.Connect(ctxT(t), e.addr); err != nil {
				t.Fatal(err)
			}
			first := receive(t, rec.opened, "connected")
			e.srvSess = receive(t, e.srvRec.opened, "session opened")

			tc.cut(t, e)
			reason := receive(t, rec.closed, "disconnected")
			if !contains(tc.reasons, reason) {
				t.Fatalf("disconnected with %v, want one of %v", reason, tc.reasons)
			}
			a := receive(t, rr.attempts, "reconnecting")
			if a.n != 1 || !errors.Is(a.err, reason) {
				t.Fatalf("attempt %d with %v, want 1 with %v", a.n, a.err, reason)
			}
			if tc.restart {
				srv := base.NewServer(native.New, e.sopts...)
				serveOn(t, srv, listenOn(t, e.addr))
			}
			s := receive(t, rr.reconnected, "reconnected")
			if s == first || s.Err() != nil && tc.name != "connection lost" {
				t.Fatalf("reconnected session %p (first %p), err %v", s, first, s.Err())
			}
			if tc.name != "connection lost" { // that one closes again soon
				if resp, err := c.Request(ctxT(t), []byte("x")); err != nil || string(resp) != "echo:x" {
					t.Fatalf("request after reconnecting: %q, %v", resp, err)
				}
			}
		})
	}
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// TestNoReconnectAfterLocalClose: closing or disconnecting on the client's
// end, through the Client or its Session, never leads to reconnecting.
func TestNoReconnectAfterLocalClose(t *testing.T) {
	cases := map[string]func(t *testing.T, c *base.Client, s *base.Session){
		"Client.Close":       func(t *testing.T, c *base.Client, s *base.Session) { c.Close() },
		"Session.Close":      func(t *testing.T, c *base.Client, s *base.Session) { s.Close() },
		"Client.Disconnect":  func(t *testing.T, c *base.Client, s *base.Session) { must(t, c.Disconnect(ctxT(t))) },
		"Session.Disconnect": func(t *testing.T, c *base.Client, s *base.Session) { must(t, s.Disconnect(ctxT(t))) },
	}
	for name, cut := range cases {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srvRec := newRecorder()
				ln := newMemListener()
				serveMem(t, base.NewServer(native.New, srvRec.server(base.OnRequest(echo))...), ln)
				rec := newRecorder()
				rr := newRedialRec(rec)
				c := base.NewClient(native.New, rr.options(fastBackoff, base.WithDialer(ln.dial))...)
				t.Cleanup(func() { c.Close() })
				must(t, c.Connect(ctxT(t), "server"))
				s := receive(t, rec.opened, "connected")
				receive(t, srvRec.opened, "session opened")
				cut(t, c, s)
				reason := receive(t, rec.closed, "disconnected")
				<-s.Done()
				// An hour of virtual time: many times the backoff's delays.
				time.Sleep(time.Hour)
				for what, ch := range map[string]<-chan *base.Session{"second session": srvRec.opened, "reconnected event": rr.reconnected} {
					select {
					case <-ch:
						t.Fatalf("%s within an hour", what)
					default:
					}
				}
				select {
				case a := <-rr.attempts:
					t.Fatalf("reconnect attempt %d within an hour", a.n)
				default:
				}
				assertNotConnected(t, "SendMessage", c.SendMessage(ctxT(t), nil), reason, false)
				// The client connects again when asked.
				must(t, c.Connect(ctxT(t), "server"))
				receive(t, rec.opened, "connected again")
				if resp, err := c.Request(ctxT(t), []byte("y")); err != nil || string(resp) != "echo:y" {
					t.Fatalf("request: %q, %v", resp, err)
				}
			})
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// One WithReconnect option value may configure many clients, also at once
// (options shared by a pool of clients): applying it must not write to
// state the clients share.
func TestReconnectOptionSharedByClients(t *testing.T) {
	opt := base.WithReconnect(fastBackoff)
	done := make(chan struct{})
	for range 2 {
		go func() {
			defer func() { done <- struct{}{} }()
			base.NewClient(native.New, opt)
		}()
	}
	<-done
	<-done
}
