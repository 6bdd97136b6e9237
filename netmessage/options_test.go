package netmessage_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
	"github.com/netmessage-go/netmessage/netmessage"
)

// TestHooksBesideMuxRefused: a base hook for the packets the Mux handles,
// given to NewServer or NewClient or through WithTransport, makes the end
// refuse to run with base.ErrInvalidOption instead of being dropped.
func TestHooksBesideMuxRefused(t *testing.T) {
	onMessage := base.OnMessage(func(context.Context, *base.Session, []byte) {})
	onRequest := base.OnRequest(func(context.Context, *base.Session, []byte) []byte { return nil })
	m, err := netmessage.NewMux()
	must(t, err)
	srv := netmessage.NewServer(m, onMessage)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	if err := srv.Serve(ln); !errors.Is(err, base.ErrInvalidOption) {
		t.Errorf("Serve with OnMessage beside the Mux: %v", err)
	}
	if err := netmessage.NewClient(m, onRequest).Connect(ctx(t), "127.0.0.1:1"); !errors.Is(err, base.ErrInvalidOption) {
		t.Errorf("Connect with OnRequest beside the Mux: %v", err)
	}
	unsendable := base.OnUnsendableResponse(func(*base.Session, error) []byte { return nil })
	tm, err := netmessage.NewMux(netmessage.WithTransport(unsendable))
	must(t, err)
	if err := netmessage.NewClient(tm).Connect(ctx(t), "127.0.0.1:1"); !errors.Is(err, base.ErrInvalidOption) {
		t.Errorf("Connect with OnUnsendableResponse through WithTransport: %v", err)
	}
	// A nil Mux is refused the same way.
	nilSrv := netmessage.NewServer(nil)
	if err := nilSrv.ListenAndServe("127.0.0.1:0"); !errors.Is(err, base.ErrInvalidOption) {
		t.Errorf("Serve without a Mux: %v", err)
	}
	if err := netmessage.NewClient(nil).Connect(ctx(t), "127.0.0.1:1"); !errors.Is(err, base.ErrInvalidOption) {
		t.Errorf("Connect without a Mux: %v", err)
	}
	// The Mux given again is the same handler: accepted.
	e := start(t, nil)
	c := netmessage.NewClient(e.cmux, base.WithHandler(e.cmux))
	defer c.Close()
	must(t, c.Connect(ctx(t), e.sess.LocalAddr().String()))
}

// TestWithoutMux: calls on a session, client or server whose handler is
// not a Mux fail with ErrNoMux, and nil ones fail too, without panicking.
func TestWithoutMux(t *testing.T) {
	opened := make(chan *base.Session, 1)
	srv := base.NewServer(native.New, base.OnSessionOpened(func(s *base.Session) { opened <- s }))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	var wg sync.WaitGroup
	wg.Go(func() { srv.Serve(ln) })
	defer wg.Wait()
	defer srv.Close()
	c := base.NewClient(native.New)
	defer c.Close()
	must(t, c.Connect(ctx(t), ln.Addr().String()))
	s := recv(t, opened, "session")
	if _, err := netmessage.Request(ctx(t), c, Ping{}); !errors.Is(err, netmessage.ErrNoMux) {
		t.Errorf("Request on a plain client: %v", err)
	}
	if err := netmessage.Send(ctx(t), s, ChatMessage{}); !errors.Is(err, netmessage.ErrNoMux) {
		t.Errorf("Send on a plain session: %v", err)
	}
	if err := netmessage.Broadcast(ctx(t), srv, ChatMessage{}); !errors.Is(err, netmessage.ErrNoMux) {
		t.Errorf("Broadcast on a plain server: %v", err)
	}
	if err := netmessage.Send(ctx(t), (*base.Client)(nil), ChatMessage{}); err == nil {
		t.Error("Send on a nil client succeeded")
	}
	if _, err := netmessage.Request(ctx(t), (*base.Session)(nil), Ping{}); err == nil {
		t.Error("Request on a nil session succeeded")
	}
}

// TestNilTransportOptionRefused: a nil base option given to WithTransport
// fails NewMux, as other nil options do, rather than making NewServer and
// NewClient panic.
func TestNilTransportOptionRefused(t *testing.T) {
	for name, opt := range map[string]netmessage.Option{
		"nil":          netmessage.WithTransport(nil),
		"among others": netmessage.WithTransport(base.WithSkipUnknownResponses(), nil),
		"in Combine":   netmessage.Combine(netmessage.WithTransport(nil)),
	} {
		if _, err := netmessage.NewMux(opt); err == nil {
			t.Errorf("%s: NewMux accepted a nil transport option", name)
		}
	}
}
