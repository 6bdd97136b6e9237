package tests

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// Heartbeat settings short enough for a test: a heartbeat every 50 ms when
// nothing else was sent, and 400 ms of silence close a connection.
const (
	beatInterval   = 50 * time.Millisecond
	receiveTimeout = 400 * time.Millisecond
	idleFor        = 3 * receiveTimeout
)

// TestHeartbeatsKeepIdleConnection leaves a connection idle for three
// receive timeouts: the heartbeats of both ends keep it open, and requests
// work both ways afterwards, answered at once. It runs on virtual time
// (testing/synctest) over an in-memory pipe, so the idle time is exact and
// a busy machine cannot stretch it. The profiles run in parallel.
func TestHeartbeatsKeepIdleConnection(t *testing.T) {
	eachProfile(t, func(t *testing.T, sc profile) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			s, c := newPipePair(t, sc,
				func(srv *netmessage.Mux) { testutil.Must(t, handlePing(srv)) },
				func(cl *netmessage.Mux) { testutil.Must(t, handlePing(cl)) },
				netmessage.WithTransport(base.WithHeartbeat(beatInterval, receiveTimeout)))
			start := time.Now()
			time.Sleep(idleFor)
			// Time moves on only once every goroutine of the bubble waits, so
			// a close before idleFor would have been reported by now.
			select {
			case ev := <-s.ev.closed:
				t.Fatalf("server session closed while idle: %v", ev.reason)
			case ev := <-c.ev.closed:
				t.Fatalf("client closed while idle: %v", ev.reason)
			default:
			}
			for _, p := range []*base.Session{c.c.Session(), c.sess} {
				if pong, err := netmessage.Request(testutil.Ctx(t), p, Ping{N: 4}); err != nil || pong.N != 4 {
					t.Fatalf("after idling: %+v, %v", pong, err)
				}
			}
			if d := time.Since(start); d != idleFor {
				t.Errorf("idling and the two requests took %v, want exactly %v (the requests wait on no timer)", d, idleFor)
			}
			noErrors(t, "server", s.ev)
			noErrors(t, "client", c.ev)
		})
	})
}

// TestHeartbeatsMissing connects a client that sends no heartbeats to a
// server that expects them: the server closes the silent connection with
// base.ReasonConnectionLost after its receive timeout, and the client's
// pending request fails then.
func TestHeartbeatsMissing(t *testing.T) {
	eachProfile(t, func(t *testing.T, sc profile) {
		t.Parallel()
		started, release := make(chan int, 1), make(chan struct{})
		s := startServer(t, sc.wire(), func(srv *netmessage.Mux) { testutil.Must(t, handleSlow(srv, started, release)) },
			netmessage.WithTransport(base.WithHeartbeat(beatInterval, receiveTimeout)))
		c := s.connect(t, sc.wire(), nil, netmessage.WithTransport(base.WithHeartbeat(0, 0)))
		done := make(chan error, 1)
		go func() {
			_, err := netmessage.Request(testutil.Ctx(t), c.c, Slow{ID: 1})
			done <- err
		}()
		testutil.Recv(t, started, "handler start")
		start := time.Now()
		expectClose(t, "server session closed", s.ev.closed, c.sess, base.ReasonConnectionLost)
		if d := time.Since(start); d > receiveTimeout+timeoutSlack {
			t.Errorf("the silent connection closed after %v, receive timeout %v", d, receiveTimeout)
		}
		closeError(t, "the client's pending request", testutil.Recv(t, done, "the pending request to fail"))
		testutil.Recv(t, c.ev.closed, "client closed")
		close(release)
	})
}
