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
	peer   netmessage.Peer
	reason base.CloseReason
	at     time.Time
}

// typedServer is a typed server (msgpack) on a loopback listener that
// records its events.
type typedServer struct {
	srv    *netmessage.Server
	addr   string
	opened chan *netmessage.Session
	closed chan typedClose
	errs   chan error
	served chan error

	sessions testutil.Sessions
}

// startTypedServer starts a server; setup registers handlers before it
// serves. The server is closed when the test ends and every session it
// opened must have finished by then.
func startTypedServer(t *testing.T, setup func(*netmessage.Server), opts ...netmessage.ServerOption) *typedServer {
	t.Helper()
	s := &typedServer{
		opened: make(chan *netmessage.Session, eventRoom),
		closed: make(chan typedClose, eventRoom),
		errs:   make(chan error, eventRoom),
	}
	all := []netmessage.ServerOption{
		netmessage.OnSessionOpened(func(sess *netmessage.Session) {
			s.sessions.Add(sess.Done())
			s.opened <- sess
		}),
		netmessage.OnSessionClosed(func(sess *netmessage.Session, r base.CloseReason) {
			s.closed <- typedClose{sess, r, time.Now()}
		}),
		netmessage.OnError(func(_ netmessage.Peer, err error) { s.errs <- err }),
	}
	var err error
	s.srv, err = netmessage.NewServer(append(all, opts...)...)
	testutil.Must(t, err)
	if setup != nil {
		setup(s.srv)
	}
	s.addr, s.served = testutil.ServeLoopback(t, s.srv, &s.sessions)
	return s
}

// typedClient is a typed client (msgpack) that records its events.
type typedClient struct {
	c         *netmessage.Client
	connected chan time.Time
	closed    chan typedClose
	errs      chan error
}

// newTypedClient returns a client, closed when the test ends; setup
// registers handlers.
func newTypedClient(t *testing.T, setup func(*netmessage.Client), opts ...netmessage.ClientOption) *typedClient {
	t.Helper()
	c := &typedClient{connected: make(chan time.Time, 64), closed: make(chan typedClose, 64), errs: make(chan error, 256)}
	all := []netmessage.ClientOption{
		netmessage.OnConnected(func(*netmessage.Client) { c.connected <- time.Now() }),
		netmessage.OnDisconnected(func(nc *netmessage.Client, r base.CloseReason) {
			c.closed <- typedClose{nc, r, time.Now()}
		}),
		netmessage.OnError(func(_ netmessage.Peer, err error) { c.errs <- err }),
	}
	var err error
	c.c, err = netmessage.NewClient(append(all, opts...)...)
	testutil.Must(t, err)
	if setup != nil {
		setup(c.c)
	}
	testutil.CloseClient(t, c.c, c.c.Base())
	return c
}

// connect connects c to addr (s's own, or a proxy's in front of s) and
// returns the next session s opens: the one for c when nothing else
// connects meanwhile.
func (c *typedClient) connect(t *testing.T, s *typedServer, addr string) *netmessage.Session {
	t.Helper()
	testutil.Must(t, c.c.Connect(testutil.Ctx(t), addr))
	testutil.Recv(t, c.connected, "the client to connect")
	return testutil.Recv(t, s.opened, "the server session to open")
}

// handleWork registers the Work handler: it reports each start on
// started (if not nil), then holds or blocks as asked. A blocked handler
// ends when release is closed or its connection closes.
func handleWork[P netmessage.Peer](t *testing.T, r netmessage.Router[P], started chan<- int, release <-chan struct{}) {
	t.Helper()
	testutil.Must(t, netmessage.HandleRequest(r, func(ctx context.Context, _ P, w Work) (WorkDone, error) {
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
