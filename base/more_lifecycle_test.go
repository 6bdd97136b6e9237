package base_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"testing"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// Disconnect writes everything queued before it half-closes, and the peer
// delivers it all before its closed event.
func TestDisconnectFlushesQueued(t *testing.T) {
	for _, by := range []string{"client", "server"} {
		t.Run(by, func(t *testing.T) {
			p := newPair(t, nil, nil)
			from, to, recv := p.cliSess, p.srvSess, p.srvRec
			if by == "server" {
				from, to, recv = p.srvSess, p.cliSess, p.cliRec
			}
			ctx := ctxT(t)
			const n = 1000
			for i := range n {
				if err := from.SendMessage(ctx, fmt.Appendf(nil, "m%d", i)); err != nil {
					t.Fatal(err)
				}
			}
			if err := from.Disconnect(ctx); err != nil {
				t.Fatalf("Disconnect: %v", err)
			}
			for i := range n {
				if got, want := receive(t, recv.messages, "queued message"), fmt.Sprintf("m%d", i); got != want {
					t.Fatalf("message %d: %q, want %q", i, got, want)
				}
			}
			if r := receive(t, recv.closed, "peer closed"); r != base.ReasonGraceful {
				t.Fatalf("peer reason %v", r)
			}
			<-to.Done()
		})
	}
}

func TestConnectFails(t *testing.T) {
	ln := listen(t)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	rec := newRecorder()
	c := base.NewClient(native.New, rec.client()...)
	t.Cleanup(func() { c.Close() })
	if err := c.Connect(ctxT(t), addr); err == nil {
		t.Fatal("Connect to a closed port succeeded")
	}
	if _, err := c.Request(ctxT(t), nil); !errors.Is(err, base.ErrNotConnected) {
		t.Fatalf("Request after failed Connect: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Connect(ctx, addr); !errors.Is(err, context.Canceled) {
		t.Fatalf("Connect with a cancelled ctx: %v", err)
	}

	// A failed Connect leaves the client free to connect.
	srvRec := newRecorder()
	good := serve(t, base.NewServer(native.New, srvRec.server(base.OnRequest(echo))...))
	if err := c.Connect(ctxT(t), good); err != nil {
		t.Fatalf("Connect after failures: %v", err)
	}
	receive(t, rec.opened, "connected")
	if resp, err := c.Request(ctxT(t), []byte("x")); err != nil || string(resp) != "echo:x" {
		t.Fatalf("request: %q, %v", resp, err)
	}
}

// flakyListener fails its first Accepts with a temporary error.
type flakyListener struct {
	net.Listener
	failures atomic.Int32
}

type tempErr struct{}

func (tempErr) Error() string   { return "accept: resource temporarily unavailable" }
func (tempErr) Timeout() bool   { return false }
func (tempErr) Temporary() bool { return true }

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.failures.Add(-1) >= 0 {
		return nil, tempErr{}
	}
	return l.Listener.Accept()
}

func TestAcceptErrorsAreReportedAndRetried(t *testing.T) {
	rec := newRecorder()
	srv := base.NewServer(native.New, rec.server(base.OnRequest(echo))...)
	ln := &flakyListener{Listener: listen(t)}
	ln.failures.Store(3)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != base.ErrServerClosed {
			t.Errorf("Serve: %v", err)
		}
	})
	for range 3 {
		err := receive(t, rec.errs, "accept error event")
		var te tempErr
		if !errors.Is(err, base.ReasonAcceptError) || !errors.As(err, &te) {
			t.Fatalf("error event %v, want an accept error wrapping the listener's", err)
		}
	}
	c, _, _ := connect(t, ln.Addr().String(), newRecorder(), rec)
	if resp, err := c.Request(ctxT(t), []byte("x")); err != nil || string(resp) != "echo:x" {
		t.Fatalf("request after accept errors: %q, %v", resp, err)
	}
}

func TestServeSeveralListeners(t *testing.T) {
	rec := newRecorder()
	srv := base.NewServer(native.New, rec.server(base.OnRequest(echo))...)
	addr1, sv1 := serveAsync(t, srv)
	addr2, sv2 := serveAsync(t, srv)
	_, _, s1 := connect(t, addr1, newRecorder(), rec)
	_, _, s2 := connect(t, addr2, newRecorder(), rec)
	if s1.ID() == s2.ID() || len(srv.Sessions()) != 2 {
		t.Fatalf("sessions %v", srv.Sessions())
	}
	srv.Close()
	for _, sv := range []*served{sv1, sv2} {
		receive(t, sv.done, "Serve to return")
		if sv.err != base.ErrServerClosed {
			t.Errorf("Serve: %v", sv.err)
		}
	}
}

// A panic in the error hook called for a server's own error event (here a
// connection refused past WithMaxSessions; a failed TLS handshake or an
// accept error alike) is dropped, as for a session's error events: a peer
// cannot bring the process down through it.
func TestServerErrorHookPanicIsContained(t *testing.T) {
	panicked := make(chan error, 4)
	p := newPair(t, []base.ServerOption{
		base.OnRequest(echo),
		base.WithMaxSessions(1),
		base.OnError(func(s *base.Session, err error) {
			if s == nil {
				panicked <- err
				panic("error hook panics")
			}
		}),
	}, nil)
	refused := dialRaw(t, p.addr)
	err := receive(t, panicked, "server error event")
	if !errors.Is(err, base.ErrTooManySessions) {
		t.Fatalf("error event %v, want ErrTooManySessions", err)
	}
	refused.expectEnd()
	if resp, err := p.client.Request(ctxT(t), []byte("x")); err != nil || string(resp) != "echo:x" {
		t.Fatalf("request after the hook panicked: %q, %v", resp, err)
	}
}
