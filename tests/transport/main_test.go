// Package transport is the base-level integration suite of NetMessage for
// Go: base servers and clients speaking the native protocol over real
// loopback sockets, many at once, with misbehaving raw peers among them.
// The heartbeat tests run on virtual time (testing/synctest) over
// in-memory pipes.
package transport

import (
	"context"
	"errors"
	"net"
	"testing"

	"go.uber.org/goleak"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sessionEvent is a close or error event of one session.
type sessionEvent struct {
	s      *base.Session
	reason base.CloseReason // close events
	err    error            // error events
}

// server is a base server serving one listener.
type server struct {
	srv    *base.Server
	addr   string
	opened chan *base.Session
	closed chan sessionEvent
	errs   chan sessionEvent
	served chan error

	sessions testutil.Sessions
}

// echo answers a request with "echo:" and its payload.
func echo(_ context.Context, _ *base.Session, p []byte) []byte {
	return append([]byte("echo:"), p...)
}

// startServer serves ln with a base server that echoes requests. The
// server is closed when the test ends and its sessions must have finished.
func startServer(t *testing.T, ln net.Listener, opts ...base.ServerOption) *server {
	t.Helper()
	s := &server{
		addr:   ln.Addr().String(),
		opened: make(chan *base.Session, 256),
		closed: make(chan sessionEvent, 256),
		errs:   make(chan sessionEvent, 256),
	}
	all := []base.ServerOption{
		base.OnRequest(echo),
		base.OnSessionOpened(func(sess *base.Session) {
			s.sessions.Add(sess.Done())
			s.opened <- sess
		}),
		base.OnSessionClosed(func(sess *base.Session, r base.CloseReason) { s.closed <- sessionEvent{s: sess, reason: r} }),
		base.OnError(func(sess *base.Session, err error) { s.errs <- sessionEvent{s: sess, err: err} }),
	}
	s.srv = base.NewServer(native.New, append(all, opts...)...)
	s.served = testutil.Serve(t, s.srv, ln, &s.sessions)
	return s
}

// client is a base client whose requests from the server are answered with
// "pong:" and the payload.
type client struct {
	c      *base.Client
	sess   *base.Session // this end's session
	peer   *base.Session // the server's session for it
	closed chan base.CloseReason
	errs   chan error
	msgs   chan string
}

// connect connects a client to s and waits for both ends to open. The
// client is closed when the test ends.
func (s *server) connect(t *testing.T, opts ...base.ClientOption) *client {
	t.Helper()
	c := &client{closed: make(chan base.CloseReason, 4), errs: make(chan error, 64), msgs: make(chan string, 1024)}
	connected := make(chan *base.Session, 1)
	all := []base.ClientOption{
		base.OnConnected(func(sess *base.Session) { connected <- sess }),
		base.OnDisconnected(func(_ *base.Session, r base.CloseReason) { c.closed <- r }),
		base.OnError(func(_ *base.Session, err error) { c.errs <- err }),
		base.OnMessage(func(_ context.Context, _ *base.Session, p []byte) { c.msgs <- string(p) }),
		base.OnRequest(func(_ context.Context, _ *base.Session, p []byte) []byte {
			return append([]byte("pong:"), p...)
		}),
	}
	c.c = base.NewClient(native.New, append(all, opts...)...)
	testutil.Must(t, c.c.Connect(testutil.Ctx(t), s.addr))
	testutil.CloseClient(t, c.c, c.c)
	c.sess = testutil.Recv(t, connected, "client connected")
	c.peer = testutil.Recv(t, s.opened, "server session opened")
	return c
}

// request sends payload on s and checks the answer is prefix+payload.
func request(ctx context.Context, s interface {
	Request(context.Context, []byte) ([]byte, error)
}, prefix, payload string) error {
	got, err := s.Request(ctx, []byte(payload))
	if err != nil {
		return err
	}
	if want := prefix + payload; string(got) != want {
		return errors.New("answer " + string(got) + ", want " + want)
	}
	return nil
}
