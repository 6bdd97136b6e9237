package base_test

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// silentServer accepts connections and never sends a byte on them, as a
// hung server does. They are closed when the test ends.
func silentServer(t *testing.T) string {
	t.Helper()
	ln := listen(t)
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestBackoffGrowsAgainstSilentServer reconnects to a server that accepts
// connections and never answers: each connection ends by the receive
// timeout, and since the server sent nothing over it the next attempt
// follows on from the one that opened it, with a longer delay, instead of
// starting again at attempt 1.
func TestBackoffGrowsAgainstSilentServer(t *testing.T) {
	addr := silentServer(t)
	rr := newRedialRec(newRecorder())
	const initial = 20 * time.Millisecond
	b := base.Backoff{Initial: initial, Max: time.Second, Jitter: -1}
	c := base.NewClient(native.New, rr.options(b, base.WithHeartbeat(30*time.Millisecond, 100*time.Millisecond))...)
	defer c.Close()
	if err := c.Connect(ctxT(t), addr); err != nil {
		t.Fatal(err)
	}
	for want := 1; want <= 5; want++ {
		a := receive(t, rr.attempts, "a reconnect attempt")
		if wantDelay := initial << (want - 1); a.n != want || a.delay != wantDelay {
			t.Fatalf("attempt %d after %v, want attempt %d after %v", a.n, a.delay, want, wantDelay)
		}
		if want > 1 {
			receive(t, rr.reconnected, "the reconnected event")
		}
	}
}

// TestBackoffRestartsAfterServerAnswered checks the other side: a
// connection over which the server sent something is a success, so after
// it is lost the attempts start again at 1.
func TestBackoffRestartsAfterServerAnswered(t *testing.T) {
	srvRec := newRecorder()
	addr := serve(t, base.NewServer(native.New, srvRec.server()...))
	rr := newRedialRec(newRecorder())
	c := base.NewClient(native.New, rr.options(fastBackoff)...)
	defer c.Close()
	if err := c.Connect(ctxT(t), addr); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		s := receive(t, srvRec.opened, "the server's session")
		if err := s.SendMessage(ctxT(t), []byte("hello")); err != nil {
			t.Fatal(err)
		}
		receive(t, rr.rec.messages, "the server's message")
		s.Close()
		if a := receive(t, rr.attempts, "a reconnect attempt"); a.n != 1 {
			t.Fatalf("attempt %d after a connection the server had sent a message over, want 1", a.n)
		}
	}
}
