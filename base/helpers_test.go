package base_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitTime bounds every wait on an event; generous for a busy 2-core machine.
const waitTime = 10 * time.Second

// recorder collects one end's events.
type recorder struct {
	opened   chan *base.Session
	closed   chan base.CloseReason
	errs     chan error
	messages chan string
}

func newRecorder() *recorder {
	return &recorder{
		opened:   make(chan *base.Session, 16),
		closed:   make(chan base.CloseReason, 16),
		errs:     make(chan error, 64),
		messages: make(chan string, 4096),
	}
}

func (r *recorder) common() []base.Option {
	return []base.Option{
		base.OnError(func(_ *base.Session, err error) { r.errs <- err }),
		base.OnMessage(func(_ *base.Session, p []byte) { r.messages <- string(p) }),
	}
}

func (r *recorder) server(opts ...base.ServerOption) []base.ServerOption {
	all := []base.ServerOption{
		base.OnSessionOpened(func(s *base.Session) { r.opened <- s }),
		base.OnSessionClosed(func(_ *base.Session, reason base.CloseReason) { r.closed <- reason }),
	}
	for _, o := range r.common() {
		all = append(all, o)
	}
	return append(all, opts...)
}

func (r *recorder) client(opts ...base.ClientOption) []base.ClientOption {
	all := []base.ClientOption{
		base.OnConnected(func(s *base.Session) { r.opened <- s }),
		base.OnDisconnected(func(_ *base.Session, reason base.CloseReason) { r.closed <- reason }),
	}
	for _, o := range r.common() {
		all = append(all, o)
	}
	return append(all, opts...)
}

// receive waits for a value on ch.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTime):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// none asserts that nothing arrives on ch for a short while.
func none[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("unexpected %s: %v", what, v)
	case <-time.After(100 * time.Millisecond):
	}
}

// listen returns a loopback listener on a free port.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// serve starts srv on a fresh listener and returns its address; the server
// is closed when the test ends.
func serve(t *testing.T, srv *base.Server) string {
	t.Helper()
	ln := listen(t)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != base.ErrServerClosed {
			t.Errorf("Serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		srv.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// pair starts a server and connects a client to it, returning both ends'
// sessions once both have opened.
type pair struct {
	srv     *base.Server
	client  *base.Client
	srvRec  *recorder
	cliRec  *recorder
	srvSess *base.Session
	cliSess *base.Session
	addr    string
}

func newPair(t *testing.T, sopts []base.ServerOption, copts []base.ClientOption) *pair {
	t.Helper()
	p := &pair{srvRec: newRecorder(), cliRec: newRecorder()}
	p.srv = base.NewServer(native.New, p.srvRec.server(sopts...)...)
	p.addr = serve(t, p.srv)
	p.client = base.NewClient(native.New, p.cliRec.client(copts...)...)
	ctx, cancel := context.WithTimeout(context.Background(), waitTime)
	defer cancel()
	if err := p.client.Connect(ctx, p.addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.client.Close() })
	p.srvSess = receive(t, p.srvRec.opened, "session opened")
	p.cliSess = receive(t, p.cliRec.opened, "client connected")
	return p
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTime)
	t.Cleanup(cancel)
	return ctx
}
