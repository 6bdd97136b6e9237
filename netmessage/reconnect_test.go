package netmessage_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
)

// recv waits for a value on ch.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTime):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// typedServer is a typed server serving one listener.
type typedServer struct {
	srv    *netmessage.Server
	addr   string
	opened chan *netmessage.Session
	wg     sync.WaitGroup
}

// serveTyped starts a typed server with the Weather handler on ln; it is
// closed when the test ends.
func serveTyped(t *testing.T, ln net.Listener, opts ...netmessage.ServerOption) *typedServer {
	t.Helper()
	s := &typedServer{addr: ln.Addr().String(), opened: make(chan *netmessage.Session, 8)}
	opts = append(opts, netmessage.OnSessionOpened(func(ss *netmessage.Session) { s.opened <- ss }))
	var err error
	if s.srv, err = netmessage.NewServer(opts...); err != nil {
		t.Fatal(err)
	}
	must(t, netmessage.HandleRequest(s.srv, func(_ context.Context, ss *netmessage.Session, r WeatherRequest) (WeatherResponse, error) {
		return WeatherResponse{Forecast: "sunny in " + r.City}, nil
	}))
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.srv.Serve(ln) }()
	t.Cleanup(s.stop)
	return s
}

func (s *typedServer) stop() {
	s.srv.Close()
	s.wg.Wait()
}

// listenOn listens on addr, retrying while the port is still taken.
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

type reconnectAttempt struct {
	c       *netmessage.Client
	attempt int
	err     error
}

// TestTypedReconnectAfterServerRestart: a typed client survives a server
// restart on the same address: the typed hooks get the *Client, calls fail
// fast with base.ErrNotConnected meanwhile, and typed requests and the
// client's own handlers work on the new connection.
func TestTypedReconnectAfterServerRestart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	s1 := serveTyped(t, ln)

	connected := make(chan *netmessage.Client, 8)
	disconnected := make(chan base.CloseReason, 8)
	attempts := make(chan reconnectAttempt, 64)
	reconnected := make(chan *netmessage.Client, 8)
	c, err := netmessage.NewClient(
		netmessage.WithReconnect(base.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond}),
		netmessage.OnConnected(func(c *netmessage.Client) { connected <- c }),
		netmessage.OnDisconnected(func(_ *netmessage.Client, r base.CloseReason) { disconnected <- r }),
		netmessage.OnReconnecting(func(c *netmessage.Client, n int, _ time.Duration, err error) {
			attempts <- reconnectAttempt{c, n, err}
		}),
		netmessage.OnReconnected(func(c *netmessage.Client) { reconnected <- c }))
	must(t, err)
	t.Cleanup(func() { c.Close() })
	must(t, netmessage.HandleRequest(c, func(_ context.Context, _ *netmessage.Client, r WeatherRequest) (WeatherResponse, error) {
		return WeatherResponse{Forecast: "rainy in " + r.City}, nil
	}))
	must(t, c.Connect(ctx(t), s1.addr))
	if got := recv(t, connected, "connected"); got != c {
		t.Fatalf("connected hook got %p, want the client %p", got, c)
	}
	recv(t, s1.opened, "first session")
	if resp, err := netmessage.Request(ctx(t), c, WeatherRequest{City: "Bonn"}); err != nil || resp.Forecast != "sunny in Bonn" {
		t.Fatalf("first request: %+v, %v", resp, err)
	}

	s1.stop()
	reason := recv(t, disconnected, "disconnected")
	a := recv(t, attempts, "reconnecting")
	if a.c != c || a.attempt != 1 || !errors.Is(a.err, reason) {
		t.Fatalf("reconnecting hook: %+v, want the client, attempt 1 and %v", a, reason)
	}
	_, err = netmessage.Request(ctx(t), c, WeatherRequest{City: "Bonn"})
	if !errors.Is(err, base.ErrNotConnected) || !errors.Is(err, reason) || !strings.Contains(err.Error(), "reconnecting") {
		t.Fatalf("request while reconnecting: %v, want ErrNotConnected and %v", err, reason)
	}
	if err := c.Send(ctx(t), ChatMessage{Text: "lost"}); !errors.Is(err, base.ErrNotConnected) {
		t.Fatalf("send while reconnecting: %v", err)
	}
	if err := c.Connect(ctx(t), s1.addr); !errors.Is(err, base.ErrAlreadyConnected) {
		t.Fatalf("Connect while reconnecting: %v", err)
	}

	s2 := serveTyped(t, listenOn(t, s1.addr))
	recv(t, connected, "connected again")
	if got := recv(t, reconnected, "reconnected"); got != c {
		t.Fatalf("reconnected hook got %p, want the client", got)
	}
	sess := recv(t, s2.opened, "session on the new server")
	if resp, err := netmessage.Request(ctx(t), c, WeatherRequest{City: "Köln"}); err != nil || resp.Forecast != "sunny in Köln" {
		t.Fatalf("request after reconnecting: %+v, %v", resp, err)
	}
	// The client's handler serves the new connection.
	if resp, err := netmessage.Request(ctx(t), sess, WeatherRequest{City: "Oslo"}); err != nil || resp.Forecast != "rainy in Oslo" {
		t.Fatalf("request to the client after reconnecting: %+v, %v", resp, err)
	}

	// Disconnect stops for good.
	must(t, c.Disconnect(ctx(t)))
	if r := recv(t, disconnected, "disconnected"); r != base.ReasonGraceful {
		t.Fatalf("disconnected with %v", r)
	}
	select {
	case a := <-attempts:
		t.Fatalf("attempt %d after Disconnect", a.attempt)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestTypedReconnectFailed: the failed hook gets the *Client and the last
// error after MaxAttempts.
func TestTypedReconnectFailed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	s := serveTyped(t, ln)
	failed := make(chan reconnectAttempt, 1)
	c, err := netmessage.NewClient(
		netmessage.WithReconnect(base.Backoff{Initial: time.Millisecond, MaxAttempts: 2}),
		netmessage.OnReconnectFailed(func(c *netmessage.Client, err error) { failed <- reconnectAttempt{c: c, err: err} }))
	must(t, err)
	t.Cleanup(func() { c.Close() })
	must(t, c.Connect(ctx(t), s.addr))
	recv(t, s.opened, "session")
	s.stop()
	f := recv(t, failed, "gave up")
	if f.c != c || !errors.Is(f.err, syscall.ECONNREFUSED) {
		t.Fatalf("failed hook: %+v", f)
	}
	if _, err := netmessage.Request(ctx(t), c, WeatherRequest{}); !errors.Is(err, base.ErrNotConnected) || strings.Contains(err.Error(), "reconnecting") {
		t.Fatalf("request after giving up: %v", err)
	}
}
