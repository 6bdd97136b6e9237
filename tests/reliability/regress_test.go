package reliability

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// TestRequestHeldWhileDisconnectStarts has a client's reader hold a
// received request (its queued bytes are at the limit while the message
// hook is busy) when the client starts a graceful Disconnect. Disconnect
// waits for the handlers running to answer and does not handle requests
// that arrive after it began; a request received before must therefore
// either be answered or not be handled at all, and no error event may be
// raised.
//
// (The reader used to check "draining" before it waited for room and start
// the handler after, so the held request was handled after the half-close
// and raised an error event with a bare base.ErrClosed.)
func TestRequestHeldWhileDisconnectStarts(t *testing.T) {
	s := startBaseServer(t)
	gate, inHook := make(chan struct{}), make(chan struct{}, 1)
	var once sync.Once
	open := func() { once.Do(func() { close(gate) }) }
	t.Cleanup(open)
	handled := make(chan struct{}, 1)
	events := make(chan error, 4)
	c := newBaseClient(t,
		base.WithMaxQueuedBytes(1), // one packet at a time
		base.OnMessage(func(context.Context, *base.Session, []byte) {
			inHook <- struct{}{}
			<-gate
		}),
		base.OnRequest(func(_ context.Context, _ *base.Session, p []byte) []byte {
			handled <- struct{}{}
			return p
		}),
		base.OnError(func(_ *base.Session, err error) { events <- err }))
	c.connect(t, s.addr)
	peer := s.sessionFor(t, c.sess.LocalAddr().String())

	testutil.Must(t, peer.SendMessage(testutil.Ctx(t), []byte("hold the queue")))
	testutil.Recv(t, inHook, "the message hook to start")
	answer := make(chan error, 1)
	go func() {
		_, err := peer.Request(context.Background(), []byte("held"))
		answer <- err
	}()
	// No event tells that the reader has read the request and waits for
	// room: give it a moment.
	time.Sleep(100 * time.Millisecond)
	disconnected := make(chan error, 1)
	go func() { disconnected <- c.c.Disconnect(context.Background()) }()
	testutil.Eventually(t, "the disconnect to begin", func() bool {
		return c.sess.SendMessage(context.Background(), []byte("probe")) != nil
	})
	open()

	err := testutil.Recv(t, answer, "the server's request to end")
	if err := testutil.Recv(t, disconnected, "Disconnect to return"); err != nil {
		t.Errorf("Disconnect: %v", err)
	}
	testutil.Closed(t, c.sess.Done(), "the client's session to finish")
	ran := false
	select {
	case <-handled:
		ran = true
	default:
	}
	if ran && err != nil {
		t.Errorf("the held request was handled after the disconnect began, but the server's call failed with %v", err)
	}
	select {
	case err := <-events:
		t.Errorf("error event on the disconnecting client: %v (bare ErrClosed: %v)", err, err == base.ErrClosed)
	default:
	}
	t.Logf("handled: %v; the server's call: %v", ran, err)
}
