package netmessage

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
)

// TestSessionMapForgetsAfterPanickingHooks closes sessions whose closed or
// error hook panics, gracefully and with a protocol error: once each
// session is done, the server's map of *Session wrappers is empty again.
func TestSessionMapForgetsAfterPanickingHooks(t *testing.T) {
	opened := make(chan *Session, 2)
	events := make(chan error, 8)
	srv, err := NewServer(
		OnSessionOpened(func(s *Session) { opened <- s }),
		OnSessionClosed(func(*Session, base.CloseReason) { panic("closed hook exploded") }),
		OnError(func(_ Peer, err error) {
			events <- err
			panic("error hook exploded")
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); srv.Serve(ln) }()
	defer func() {
		srv.Close()
		wg.Wait()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	waitDone := func(what string) {
		t.Helper()
		var s *Session
		select {
		case s = <-opened:
		case <-ctx.Done():
			t.Fatalf("%s: no session opened", what)
		}
		select {
		case <-s.Done():
		case <-ctx.Done():
			t.Fatalf("%s: session not done", what)
		}
		n := 0
		srv.sessions.Range(func(any, any) bool { n++; return true })
		if n != 0 {
			t.Errorf("%s: %d sessions left in the map after the session is done", what, n)
		}
	}

	// A graceful close: the closed hook is the last event.
	c, err := NewClient()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(ctx, ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	if err := c.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	waitDone("graceful close")

	// Bytes that are no protocol: the error event is the last event.
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("this is not the native protocol\n")); err != nil {
		t.Fatal(err)
	}
	waitDone("protocol error")
	select {
	case <-events:
	default:
		t.Error("no error event for the protocol error")
	}
}

// TestSessionMapForgetsUnderChurn has connections open and close at once
// while other goroutines list the server's sessions, so that a lookup can
// race with a session's whole life: once every session is done, no entry
// is left. (A lookup that found a session open, then stored its entry
// after the session's last event had deleted it, used to leave one.)
func TestSessionMapForgetsUnderChurn(t *testing.T) {
	var done sync.Map // the opened sessions' Done channels
	srv, err := NewServer(
		OnSessionOpened(func(s *Session) { done.Store(s.Done(), true) }),
		OnError(func(Peer, error) {}))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var served sync.WaitGroup
	served.Go(func() { srv.Serve(ln) })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for ctx.Err() == nil {
				_ = srv.Sessions()
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				if conn, err := net.Dial("tcp", ln.Addr().String()); err == nil {
					conn.Close()
				}
			}
		})
	}
	wg.Wait()
	srv.Close()
	served.Wait()
	done.Range(func(ch, _ any) bool { <-ch.(<-chan struct{}); return true })
	n := 0
	srv.sessions.Range(func(_, v any) bool {
		n++
		t.Logf("session %d still mapped after it ended (%v)", v.(*Session).ID(), v.(*Session).Err())
		return true
	})
	if n != 0 {
		t.Errorf("%d entries left in the session map", n)
	}
}
