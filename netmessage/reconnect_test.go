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

// typedServerEnv is a typed server serving one listener.
type typedServerEnv struct {
	mux    *netmessage.Mux
	srv    *base.Server
	addr   string
	opened chan *base.Session
	wg     sync.WaitGroup
}

// serveTyped starts a typed server with the Weather handler on ln; it is
// closed when the test ends. opts are netmessage or base options.
func serveTyped(t *testing.T, ln net.Listener, opts ...any) *typedServerEnv {
	t.Helper()
	s := &typedServerEnv{addr: ln.Addr().String(), opened: make(chan *base.Session, 8)}
	opts = append(opts, base.OnSessionOpened(func(ss *base.Session) { s.opened <- ss }))
	s.mux, s.srv = typedServer(t, opts...)
	must(t, netmessage.HandleRequest(s.mux, func(_ context.Context, ss *base.Session, r WeatherRequest) (WeatherResponse, error) {
		return WeatherResponse{Forecast: "sunny in " + r.City}, nil
	}))
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.srv.Serve(ln) }()
	t.Cleanup(s.stop)
	return s
}

func (s *typedServerEnv) stop() {
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
	attempt int
	err     error
}

// TestTypedReconnectAfterServerRestart: a typed client survives a server
// restart on the same address: the hooks get the client's connection,
// calls fail fast with base.ErrNotConnected meanwhile, and typed requests
// and the handlers of the client's Mux work on the new connection.
func TestTypedReconnectAfterServerRestart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	s1 := serveTyped(t, ln)

	connected := make(chan *base.Session, 8)
	disconnected := make(chan base.CloseReason, 8)
	attempts := make(chan reconnectAttempt, 64)
	reconnected := make(chan *base.Session, 8)
	m, c := typedClient(t,
		base.WithReconnect(base.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond}),
		base.OnConnected(func(c *base.Session) { connected <- c }),
		base.OnDisconnected(func(_ *base.Session, r base.CloseReason) { disconnected <- r }),
		base.OnReconnecting(func(n int, _ time.Duration, err error) {
			attempts <- reconnectAttempt{n, err}
		}),
		base.OnReconnected(func(c *base.Session) { reconnected <- c }))
	t.Cleanup(func() { c.Close() })
	must(t, netmessage.HandleRequest(m, func(_ context.Context, _ *base.Session, r WeatherRequest) (WeatherResponse, error) {
		return WeatherResponse{Forecast: "rainy in " + r.City}, nil
	}))
	must(t, c.Connect(ctx(t), s1.addr))
	if got := recv(t, connected, "connected"); got != c.Session() {
		t.Fatalf("connected hook got %p, want the client's connection %p", got, c.Session())
	}
	recv(t, s1.opened, "first session")
	if resp, err := netmessage.Request(ctx(t), c, WeatherRequest{City: "Bonn"}); err != nil || resp.Forecast != "sunny in Bonn" {
		t.Fatalf("first request: %+v, %v", resp, err)
	}

	s1.stop()
	reason := recv(t, disconnected, "disconnected")
	a := recv(t, attempts, "reconnecting")
	if a.attempt != 1 || !errors.Is(a.err, reason) {
		t.Fatalf("reconnecting hook: %+v, want attempt 1 and %v", a, reason)
	}
	_, err = netmessage.Request(ctx(t), c, WeatherRequest{City: "Bonn"})
	if !errors.Is(err, base.ErrNotConnected) || !errors.Is(err, reason) || !strings.Contains(err.Error(), "reconnecting") {
		t.Fatalf("request while reconnecting: %v, want ErrNotConnected and %v", err, reason)
	}
	if err := netmessage.Send(ctx(t), c, ChatMessage{Text: "lost"}); !errors.Is(err, base.ErrNotConnected) {
		t.Fatalf("send while reconnecting: %v", err)
	}
	if err := c.Connect(ctx(t), s1.addr); !errors.Is(err, base.ErrAlreadyConnected) {
		t.Fatalf("Connect while reconnecting: %v", err)
	}

	s2 := serveTyped(t, listenOn(t, s1.addr))
	again := recv(t, connected, "connected again")
	if got := recv(t, reconnected, "reconnected"); got != again || got != c.Session() {
		t.Fatalf("reconnected hook got %p, want the new connection %p", got, again)
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

// TestTypedReconnectFailed: the failed hook gets the last error after
// MaxAttempts.
func TestTypedReconnectFailed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	s := serveTyped(t, ln)
	failed := make(chan reconnectAttempt, 1)
	_, c := typedClient(t,
		base.WithReconnect(base.Backoff{Initial: time.Millisecond, MaxAttempts: 2}),
		base.OnReconnectFailed(func(err error) { failed <- reconnectAttempt{err: err} }))
	t.Cleanup(func() { c.Close() })
	must(t, c.Connect(ctx(t), s.addr))
	recv(t, s.opened, "session")
	s.stop()
	f := recv(t, failed, "gave up")
	if !errors.Is(f.err, syscall.ECONNREFUSED) {
		t.Fatalf("failed hook: %+v", f)
	}
	if _, err := netmessage.Request(ctx(t), c, WeatherRequest{}); !errors.Is(err, base.ErrNotConnected) || strings.Contains(err.Error(), "reconnecting") {
		t.Fatalf("request after giving up: %v", err)
	}
}
