package base_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
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

	mu     sync.Mutex
	events []string // every hook call in order: "opened", "message:P", "closed:R", "error:E"
}

// log appends an event to the ordered log; it never blocks.
func (r *recorder) log(format string, args ...any) {
	r.mu.Lock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

// eventLog returns a copy of the ordered events so far.
func (r *recorder) eventLog() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
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
	return append(r.errHook(),
		base.OnMessage(func(_ context.Context, _ *base.Session, p []byte) { r.log("message:%s", p); r.messages <- string(p) }))
}

// errHook returns the error hook alone, for an end whose packets go to a
// Handler (WithHandler), which cannot be given with OnMessage.
func (r *recorder) errHook() []base.Option {
	return []base.Option{
		base.OnError(func(_ *base.Session, err error) { r.log("error:%v", err); r.errs <- err }),
	}
}

func (r *recorder) server(opts ...base.ServerOption) []base.ServerOption {
	return r.serverWith(r.common(), opts...)
}

// serverWith is server with the hooks common in place of r.common().
func (r *recorder) serverWith(common []base.Option, opts ...base.ServerOption) []base.ServerOption {
	all := []base.ServerOption{
		base.OnSessionOpened(func(s *base.Session) { r.log("opened"); r.opened <- s }),
		base.OnSessionClosed(func(_ *base.Session, reason base.CloseReason) {
			r.log("closed:%s", reason.String())
			r.closed <- reason
		}),
	}
	for _, o := range common {
		all = append(all, o)
	}
	return append(all, opts...)
}

func (r *recorder) client(opts ...base.ClientOption) []base.ClientOption {
	return r.clientWith(r.common(), opts...)
}

// clientWith is client with the hooks common in place of r.common().
func (r *recorder) clientWith(common []base.Option, opts ...base.ClientOption) []base.ClientOption {
	all := []base.ClientOption{
		base.OnConnected(func(s *base.Session) { r.log("opened"); r.opened <- s }),
		base.OnDisconnected(func(_ *base.Session, reason base.CloseReason) {
			r.log("closed:%s", reason.String())
			r.closed <- reason
		}),
	}
	for _, o := range common {
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

// served is the outcome of a Serve call: done closes when Serve returns err.
type served struct {
	done chan struct{}
	err  error
}

// serveAsync starts srv on a fresh listener and returns its address and the
// outcome of Serve; the server is closed when the test ends, and Serve must
// then have returned base.ErrServerClosed.
func serveAsync(t *testing.T, srv *base.Server) (string, *served) {
	t.Helper()
	ln := listen(t)
	r := &served{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-r.done
		if r.err != base.ErrServerClosed {
			t.Errorf("Serve: %v", r.err)
		}
	})
	return ln.Addr().String(), r
}

// serve starts srv on a fresh listener and returns its address; the server
// is closed when the test ends.
func serve(t *testing.T, srv *base.Server) string {
	t.Helper()
	addr, _ := serveAsync(t, srv)
	return addr
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
	served  *served
}

func newPair(t *testing.T, sopts []base.ServerOption, copts []base.ClientOption) *pair {
	t.Helper()
	return newPairWith(t, true, sopts, copts)
}

// newHandlerPair is newPair for ends whose packets go to the Handler in
// their options: the recorders record no messages.
func newHandlerPair(t *testing.T, sopts []base.ServerOption, copts []base.ClientOption) *pair {
	t.Helper()
	return newPairWith(t, false, sopts, copts)
}

func newPairWith(t *testing.T, messages bool, sopts []base.ServerOption, copts []base.ClientOption) *pair {
	t.Helper()
	p := &pair{srvRec: newRecorder(), cliRec: newRecorder()}
	scommon, ccommon := p.srvRec.errHook(), p.cliRec.errHook()
	if messages {
		scommon, ccommon = p.srvRec.common(), p.cliRec.common()
	}
	p.srv = base.NewServer(native.New, p.srvRec.serverWith(scommon, sopts...)...)
	p.addr, p.served = serveAsync(t, p.srv)
	p.client = base.NewClient(native.New, p.cliRec.clientWith(ccommon, copts...)...)
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

// connect connects a new client to addr and waits for its connected event
// and, when srvRec is not nil, for the server's opened event.
func connect(t *testing.T, addr string, rec, srvRec *recorder, opts ...base.ClientOption) (*base.Client, *base.Session, *base.Session) {
	t.Helper()
	c := base.NewClient(native.New, rec.client(opts...)...)
	if err := c.Connect(ctxT(t), addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	cs := receive(t, rec.opened, "client connected")
	var ss *base.Session
	if srvRec != nil {
		ss = receive(t, srvRec.opened, "session opened")
	}
	return c, cs, ss
}

// within fails unless lo <= d <= hi.
func within(t *testing.T, what string, d, lo, hi time.Duration) {
	t.Helper()
	if d < lo || d > hi {
		t.Errorf("%s took %v, want within [%v, %v]", what, d, lo, hi)
	}
}

// closeErr asserts that err is a *base.CloseError with the reason and
// matches base.ErrClosed.
func closeErr(t *testing.T, what string, err error, reason base.CloseReason) {
	t.Helper()
	var ce *base.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("%s: got %v (%T), want a *base.CloseError", what, err, err)
	}
	if ce.Reason != reason || !errors.Is(err, base.ErrClosed) || !errors.Is(err, reason) {
		t.Fatalf("%s: got %v (reason %v), want reason %v", what, err, ce.Reason, reason)
	}
}

// tolerance is the slack allowed past a timeout on a busy machine.
const tolerance = 1500 * time.Millisecond
