package transport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// Heartbeat settings of the tests in a bubble: a receive timeout whose
// sixteenth is a round 50 ms, and a heartbeat every eighth of it.
const (
	beatInterval   = 100 * time.Millisecond
	receiveTimeout = 800 * time.Millisecond
	// readDeadline is how long after the last byte received a silent
	// connection closes: the receive timeout and a sixteenth more (see
	// base.WithHeartbeat).
	readDeadline = receiveTimeout + receiveTimeout/16
)

// arrival is what one read of a raw peer returned, and when.
type arrival struct {
	data []byte
	at   time.Duration // since the test's start
	err  error
}

func (a arrival) String() string {
	if a.err != nil {
		return fmt.Sprintf("%v at %v", a.err, a.at)
	}
	return fmt.Sprintf("% x at %v", a.data, a.at)
}

// TestSilentPeerIsLost has a raw peer send the preface half a receive
// timeout after it connects, and then nothing, reading all the while. The
// server sends its preface and a heartbeat (00) at every tick of its
// interval, and closes the session with ReasonConnectionLost exactly at
// its read deadline: the receive timeout and a sixteenth after the
// preface, the last byte it received. It runs on virtual time
// (testing/synctest) over an in-memory pipe.
func TestSilentPeerIsLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const prefaceAt = receiveTimeout / 2 // the deadline set at the start must move
		ln := testutil.NewPipes()
		s := startServer(t, ln, base.WithHeartbeat(beatInterval, receiveTimeout))
		start := time.Now()
		conn, err := ln.Dial(testutil.Ctx(t), "", "")
		testutil.Must(t, err)
		defer conn.Close()
		sess := testutil.Recv(t, s.opened, "session opened")
		reads := make(chan []arrival, 1)
		go func() { // a pipe has no buffer: the peer must read for the server to write
			var got []arrival
			buf := make([]byte, 64)
			for {
				n, err := conn.Read(buf)
				got = append(got, arrival{bytes.Clone(buf[:n]), time.Since(start), err})
				if err != nil {
					reads <- got
					return
				}
			}
		}()
		time.Sleep(prefaceAt)
		_, err = conn.Write(preface)
		testutil.Must(t, err)

		closeAt := prefaceAt + readDeadline
		ev := testutil.Recv(t, s.closed, "silent session closed")
		if d := time.Since(start); d != closeAt {
			t.Errorf("the silent session closed %v after the start, want exactly %v (the preface at %v, then the receive timeout and a sixteenth)",
				d, closeAt, prefaceAt)
		}
		if ev.s != sess || ev.reason != base.ReasonConnectionLost {
			t.Errorf("session %d closed with %v, want connection lost", ev.s.ID(), ev.reason)
		}
		if err := sess.Err(); !errors.Is(err, base.ReasonConnectionLost) || !errors.Is(err, base.ErrClosed) {
			t.Errorf("Err() = %v, want connection lost", err)
		}

		// The preface at once, then one heartbeat at each tick before the
		// close (nothing else is written), then the end of the stream.
		want := []arrival{{data: preface}}
		for at := beatInterval; at < closeAt; at += beatInterval {
			want = append(want, arrival{data: []byte{0}, at: at})
		}
		want = append(want, arrival{data: []byte{}, at: closeAt, err: io.EOF})
		got := testutil.Recv(t, reads, "the silent peer's reads to end")
		if len(got) != len(want) {
			t.Fatalf("the silent peer read %v, want %v", got, want)
		}
		for i, w := range want {
			if g := got[i]; !bytes.Equal(g.data, w.data) || g.at != w.at || g.err != w.err {
				t.Errorf("read %d: %v, want %v", i, g, w)
			}
		}
	})
}

// TestHeartbeatsKeepIdleConnectionAlive leaves a connection idle for three
// receive timeouts: the heartbeats of both ends keep it open, and a request
// then goes each way, answered at once. It runs on virtual time
// (testing/synctest) over an in-memory pipe.
func TestHeartbeatsKeepIdleConnectionAlive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const idle = 3 * receiveTimeout
		hb := base.WithHeartbeat(beatInterval, receiveTimeout)
		ln := testutil.NewPipes()
		s := startServer(t, ln, hb)
		c := s.connect(t, hb, base.WithDialer(ln.Dial))
		start := time.Now()
		time.Sleep(idle)
		// Time moves on only once every goroutine of the bubble waits, so a
		// close before idle would have been reported by now.
		select {
		case ev := <-s.closed:
			t.Fatalf("idle session closed: %v", ev.reason)
		case r := <-c.closed:
			t.Fatalf("idle client closed: %v", r)
		default:
		}
		if err := request(testutil.Ctx(t), c.c, "echo:", "still here"); err != nil {
			t.Fatalf("request to the server after idling: %v", err)
		}
		if err := request(testutil.Ctx(t), c.peer, "pong:", "still there"); err != nil {
			t.Fatalf("request to the client after idling: %v", err)
		}
		if d := time.Since(start); d != idle {
			t.Errorf("idling and the two requests took %v, want exactly %v (the requests wait on no timer)", d, idle)
		}
	})
}

// TestPacketTooLarge: a send over this end's limit fails with
// ErrPacketTooLarge and the session lives on; a received packet over the
// limit closes the session with ReasonProtocolError.
func TestPacketTooLarge(t *testing.T) {
	s := startServer(t, testutil.Listen(t), base.WithMaxPacketSize(1024))
	c := s.connect(t)
	big := bytes.Repeat([]byte("x"), 2000)

	if err := c.peer.SendMessage(testutil.Ctx(t), big); !errors.Is(err, base.ErrPacketTooLarge) {
		t.Fatalf("oversized send: %v, want ErrPacketTooLarge", err)
	}
	if _, err := c.peer.Request(testutil.Ctx(t), big); !errors.Is(err, base.ErrPacketTooLarge) {
		t.Fatalf("oversized request: %v, want ErrPacketTooLarge", err)
	}
	if err := request(testutil.Ctx(t), c.peer, "pong:", "fine"); err != nil {
		t.Fatalf("after the refused sends: %v", err)
	}

	testutil.Must(t, c.c.SendMessage(testutil.Ctx(t), big)) // within the client's own limit
	ev := testutil.Recv(t, s.closed, "session closed")
	if ev.s != c.peer || ev.reason != base.ReasonProtocolError {
		t.Errorf("session closed with %v, want protocol error", ev.reason)
	}
	if e := testutil.Recv(t, s.errs, "error event"); !errors.Is(e.err, base.ErrPacketTooLarge) {
		t.Errorf("error event %v, want ErrPacketTooLarge", e.err)
	}
	t.Logf("the client saw its connection close with %v", testutil.Recv(t, c.closed, "client closed"))
}

// TestMaxSessions: past WithMaxSessions, a connection is closed at once and
// the server raises an error event with ErrTooManySessions; the sessions
// already open are not disturbed, and a place that frees up is taken again.
func TestMaxSessions(t *testing.T) {
	s := startServer(t, testutil.Listen(t), base.WithMaxSessions(2))
	clients := connectMany(t, s, 2)

	extra := &client{closed: make(chan base.CloseReason, 1)}
	extra.c = base.NewClient(native.New, base.OnDisconnected(func(_ *base.Session, r base.CloseReason) { extra.closed <- r }))
	testutil.Must(t, extra.c.Connect(testutil.Ctx(t), s.addr)) // TCP connects; the server then refuses
	defer extra.c.Close()
	ev := testutil.Recv(t, s.errs, "refusal error event")
	var ce *base.CloseError
	if ev.s != nil || !errors.As(ev.err, &ce) || ce.Reason != base.ReasonAcceptError || !errors.Is(ev.err, base.ErrTooManySessions) {
		t.Errorf("error event %v (session %v), want an accept error with ErrTooManySessions", ev.err, ev.s)
	}
	t.Logf("the refused client saw its connection close with %v", testutil.Recv(t, extra.closed, "refused client closed"))
	if _, err := extra.c.Request(testutil.Ctx(t), []byte("x")); !errors.Is(err, base.ErrClosed) {
		t.Errorf("refused client's request: %v, want ErrClosed", err)
	}

	for i, c := range clients {
		if err := request(testutil.Ctx(t), c.c, "echo:", "ok"); err != nil {
			t.Errorf("client %d: %v", i, err)
		}
	}
	testutil.Must(t, clients[0].c.Disconnect(testutil.Ctx(t)))
	testutil.Recv(t, s.closed, "session closed")
	again := s.connect(t)
	if err := request(testutil.Ctx(t), again.c, "echo:", "in"); err != nil {
		t.Errorf("client in the freed place: %v", err)
	}
}
