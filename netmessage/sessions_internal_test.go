package netmessage

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
)

// TestSessionMapForgetsAfterPanickingHooks closes sessions of a Mux's
// server whose closed or error hook panics, gracefully and with a protocol
// error: once each session is done, the server no longer lists it. (The
// typed layer once kept a map of session wrappers of its own, which had
// to forget them; now the server's own list is the only one.)
func TestSessionMapForgetsAfterPanickingHooks(t *testing.T) {
	opened := make(chan *base.Session, 2)
	events := make(chan error, 8)
	m, err := NewMux()
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(m,
		base.OnSessionOpened(func(s *base.Session) { opened <- s }),
		base.OnSessionClosed(func(*base.Session, base.CloseReason) { panic("closed hook exploded") }),
		base.OnError(func(_ *base.Session, err error) {
			events <- err
			panic("error hook exploded")
		}),
	)
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
		var s *base.Session
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
		if n := len(srv.Sessions()); n != 0 || srv.Session(s.ID()) != nil {
			t.Errorf("%s: %d sessions listed after the session is done", what, n)
		}
	}

	// A graceful close: the closed hook is the last event.
	c := NewClient(m)
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
// on a Mux's server while other goroutines list the server's sessions, so
// that a lookup can race with a session's whole life: once every session
// is done, none is listed, nor found by id.
func TestSessionMapForgetsUnderChurn(t *testing.T) {
	var done sync.Map // the opened sessions' Done channels, by id
	m, err := NewMux()
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(m,
		base.OnSessionOpened(func(s *base.Session) { done.Store(s.ID(), s.Done()) }),
		base.OnError(func(*base.Session, error) {}))
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
	n := 0
	done.Range(func(id, ch any) bool {
		<-ch.(<-chan struct{})
		if srv.Session(id.(uint64)) != nil {
			t.Logf("session %d still found after it ended", id)
			n++
		}
		return true
	})
	if n += len(srv.Sessions()); n != 0 {
		t.Errorf("%d sessions left after they ended", n)
	}
}
