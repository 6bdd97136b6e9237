package strproto_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/examples/simplestring/strproto"
)

// recv waits for a value from ch.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for an event")
		panic("unreachable")
	}
}

// TestOverBase runs the protocol under base: text with non-ASCII
// characters goes through both ways, a payload the protocol cannot carry
// is refused without harm to the connection, and a peer that sends
// garbage has its session closed with a protocol error.
func TestOverBase(t *testing.T) {
	messages := make(chan string, 4)
	closed := make(chan base.CloseReason, 2)
	errs := make(chan error, 4)
	srv := base.NewServer(strproto.New,
		base.OnMessage(func(_ context.Context, _ *base.Session, p []byte) { messages <- string(p) }),
		base.OnRequest(func(_ context.Context, _ *base.Session, p []byte) []byte { return bytes.ToUpper(p) }),
		base.OnSessionClosed(func(_ *base.Session, r base.CloseReason) { closed <- r }),
		base.OnError(func(_ *base.Session, err error) { errs <- err }),
	)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() { srv.Close(); <-served }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := base.NewClient(strproto.New)
	if err := client.Connect(ctx, ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if err := client.SendMessage(ctx, []byte("a\x04b")); !errors.Is(err, strproto.ErrTerminator) {
		t.Errorf("SendMessage with a terminator: %v, want ErrTerminator", err)
	}
	if _, err := client.Request(ctx, []byte("\xff")); !errors.Is(err, strproto.ErrInvalidUTF8) {
		t.Errorf("Request with invalid UTF-8: %v, want ErrInvalidUTF8", err)
	}
	if err := client.SendMessage(ctx, []byte("héllo")); err != nil {
		t.Fatal(err)
	}
	if got, err := client.Request(ctx, []byte("wörld")); err != nil || string(got) != "WÖRLD" {
		t.Fatalf("Request = %q, %v; want WÖRLD", got, err)
	}
	if got := recv(t, messages); got != "héllo" {
		t.Errorf("server got message %q, want héllo", got)
	}
	if err := client.Disconnect(ctx); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	if r := recv(t, closed); r != base.ReasonGraceful {
		t.Errorf("server session closed with %v, want graceful", r)
	}

	// A raw peer: a good message, then a request with a bad id.
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("Mok\x04Q1x:hi\x04")); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, messages); got != "ok" {
		t.Errorf("server got message %q, want ok", got)
	}
	if r := recv(t, closed); r != base.ReasonProtocolError {
		t.Errorf("raw session closed with %v, want protocol error", r)
	}
	if err := recv(t, errs); !errors.Is(err, strproto.ErrMalformed) {
		t.Errorf("error event %v, want ErrMalformed", err)
	}
}

// TestHeartbeats keeps a connection idle for many receive timeouts: the
// lone-terminator heartbeats keep it open.
func TestHeartbeats(t *testing.T) {
	// Twenty heartbeats per receive timeout, so that a busy machine that
	// delays a few of them does not end the connection.
	const timeout = 500 * time.Millisecond
	beat := base.WithHeartbeat(timeout/20, timeout)
	closed := make(chan base.CloseReason, 1)
	srv := base.NewServer(strproto.New, beat,
		base.OnRequest(func(_ context.Context, _ *base.Session, p []byte) []byte { return p }),
		base.OnSessionClosed(func(_ *base.Session, r base.CloseReason) { closed <- r }))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() { srv.Close(); <-served }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := base.NewClient(strproto.New, beat)
	if err := client.Connect(ctx, ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	time.Sleep(3 * timeout)
	if got, err := client.Request(ctx, []byte("still there?")); err != nil || string(got) != "still there?" {
		t.Fatalf("Request after idling = %q, %v", got, err)
	}
	if err := client.Disconnect(ctx); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	if r := recv(t, closed); r != base.ReasonGraceful {
		t.Errorf("server session closed with %v, want graceful", r.String())
	}
}
