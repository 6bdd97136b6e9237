package reliability

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// Packet types of the typed tests.
type (
	// Seq is a message numbered per connection and direction.
	Seq struct {
		Conn int
		N    uint64
		Pad  []byte
	}
	// Tick is a message the server broadcasts, numbered.
	Tick struct {
		N uint64
	}
	// Echo asks for its numbers back.
	Echo struct {
		netmessage.Returns[EchoReply]
		Conn int
		N    uint64
	}
	// EchoReply answers Echo.
	EchoReply struct {
		Conn int
		N    uint64
	}
	// Work is a request whose handler takes Hold to answer, or blocks until
	// released when Block is set.
	Work struct {
		netmessage.Returns[WorkDone]
		ID    int
		Hold  time.Duration
		Block bool
	}
	// WorkDone answers Work.
	WorkDone struct {
		ID int
	}
)

// typedClose is a close event of the typed layer.
type typedClose struct {
	peer   *base.Session
	reason base.CloseReason
	at     time.Time
}

// typedServer is a typed server (msgpack) on a loopback listener that
// records its events.
type typedServer struct {
	mux    *netmessage.Mux
	srv    *base.Server
	addr   string
	opened chan *base.Session
	closed chan typedClose
	errs   chan error
	served chan error

	sessions testutil.Sessions
}

// startTypedServer starts a server with opts (netmessage or base options);
// setup registers handlers on its Mux before it serves. The server is
// closed when the test ends and every session it opened must have
// finished by then.
func startTypedServer(t *testing.T, setup func(*netmessage.Mux), opts ...any) *typedServer {
	t.Helper()
	s := &typedServer{
		opened: make(chan *base.Session, eventRoom),
		closed: make(chan typedClose, eventRoom),
		errs:   make(chan error, eventRoom),
	}
	all := []any{
		base.OnSessionOpened(func(sess *base.Session) {
			s.sessions.Add(sess.Done())
			s.opened <- sess
		}),
		base.OnSessionClosed(func(sess *base.Session, r base.CloseReason) {
			s.closed <- typedClose{sess, r, time.Now()}
		}),
		base.OnError(func(_ *base.Session, err error) { s.errs <- err }),
	}
	s.mux, s.srv = testutil.TypedServer(t, append(all, opts...)...)
	if setup != nil {
		setup(s.mux)
	}
	s.addr, s.served = testutil.ServeLoopback(t, s.srv, &s.sessions)
	return s
}

// typedClient is a typed client (msgpack) that records its events.
type typedClient struct {
	c         *base.Client
	connected chan time.Time
	closed    chan typedClose
	errs      chan error
}

// newTypedClient returns a client with opts (netmessage or base options),
// closed when the test ends; setup registers handlers on its Mux.
func newTypedClient(t *testing.T, setup func(*netmessage.Mux), opts ...any) *typedClient {
	t.Helper()
	c := &typedClient{connected: make(chan time.Time, 64), closed: make(chan typedClose, 64), errs: make(chan error, 256)}
	all := []any{
		base.OnConnected(func(*base.Session) { c.connected <- time.Now() }),
		base.OnDisconnected(func(cs *base.Session, r base.CloseReason) {
			c.closed <- typedClose{cs, r, time.Now()}
		}),
		base.OnError(func(_ *base.Session, err error) { c.errs <- err }),
	}
	var m *netmessage.Mux
	m, c.c = testutil.TypedClient(t, append(all, opts...)...)
	if setup != nil {
		setup(m)
	}
	testutil.CloseClient(t, c.c, c.c)
	return c
}

// connect connects c to addr (s's own, or a proxy's in front of s) and
// returns the next session s opens: the one for c when nothing else
// connects meanwhile.
func (c *typedClient) connect(t *testing.T, s *typedServer, addr string) *base.Session {
	t.Helper()
	testutil.Must(t, c.c.Connect(testutil.Ctx(t), addr))
	testutil.Recv(t, c.connected, "the client to connect")
	return testutil.Recv(t, s.opened, "the server session to open")
}

// handleWork registers the Work handler: it reports each start on
// started (if not nil), then holds or blocks as asked. A blocked handler
// ends when release is closed or its connection closes.
func handleWork(t *testing.T, r *netmessage.Mux, started chan<- int, release <-chan struct{}) {
	t.Helper()
	testutil.Must(t, netmessage.HandleRequest(r, func(ctx context.Context, _ *base.Session, w Work) (WorkDone, error) {
		if started != nil {
			started <- w.ID
		}
		if w.Block {
			select {
			case <-release:
			case <-ctx.Done():
				return WorkDone{}, ctx.Err()
			}
		}
		if w.Hold > 0 {
			time.Sleep(w.Hold) // the handler's work
		}
		return WorkDone{ID: w.ID}, nil
	}))
}

// isCloseError reports whether err is the *base.CloseError of a closed
// connection with the given reason.
func isCloseError(err error, reason base.CloseReason) bool {
	var ce *base.CloseError
	return errors.As(err, &ce) && ce.Reason == reason && errors.Is(err, base.ErrClosed)
}
