package transport

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// TestSilentPeerIsLost has a raw peer send the preface and then nothing:
// the server sends it heartbeats, and closes the session with
// ReasonConnectionLost once its receive timeout passes without a byte.
func TestSilentPeerIsLost(t *testing.T) {
	testutil.Attempts(t, testSilentPeerIsLost)
}

func testSilentPeerIsLost(t *testing.T, w *testutil.StallWatch) {
	const interval, timeout = 50 * time.Millisecond, 600 * time.Millisecond
	const slack = 3 * time.Second
	s := startServer(t, testutil.Listen(t), base.WithHeartbeat(interval, timeout))
	conn, err := net.DialTimeout("tcp", s.addr, testutil.WaitTime)
	testutil.Must(t, err)
	defer conn.Close()
	sess := testutil.Recv(t, s.opened, "session opened")
	start := time.Now() // before the server can read the preface and restart its timeout
	_, err = conn.Write(preface)
	testutil.Must(t, err)

	ev := testutil.Recv(t, s.closed, "silent session closed")
	if d := time.Since(start); d < timeout {
		t.Fatalf("the receive timeout took %v, want at least %v", d, timeout)
	} else if d > timeout+slack {
		w.Fatalf(t, slack, "the receive timeout took %v, want at most %v", d, timeout+slack)
	}
	if ev.s != sess || ev.reason != base.ReasonConnectionLost {
		t.Errorf("session %d closed with %v, want connection lost", ev.s.ID(), ev.reason)
	}
	if err := sess.Err(); !errors.Is(err, base.ReasonConnectionLost) || !errors.Is(err, base.ErrClosed) {
		t.Errorf("Err() = %v, want connection lost", err)
	}

	testutil.Must(t, conn.SetReadDeadline(time.Now().Add(testutil.WaitTime)))
	got, _ := io.ReadAll(conn)
	beats := bytes.TrimPrefix(got, preface)
	if len(beats) == len(got) || strings.Trim(string(beats), "\x00") != "" {
		t.Errorf("silent peer read % x, want the preface and heartbeats (00)", got)
	}
	if len(beats) == 0 {
		// Twelve intervals passed: only a process that hardly ran sends none.
		w.Fatalf(t, timeout, "silent peer read % x, want heartbeats (00) after the preface", got)
	}
}

// TestHeartbeatsKeepIdleConnectionAlive leaves a connection idle for twice
// the receive timeout: heartbeats keep it open.
func TestHeartbeatsKeepIdleConnectionAlive(t *testing.T) {
	testutil.Attempts(t, func(t *testing.T, w *testutil.StallWatch) {
		const interval, timeout = 50 * time.Millisecond, 500 * time.Millisecond
		hb := base.WithHeartbeat(interval, timeout)
		s := startServer(t, testutil.Listen(t), hb)
		c := s.connect(t, hb)
		time.Sleep(2 * timeout) // proving that nothing closes
		// A heartbeat may come up to 1.5 intervals apart: the rest of the
		// timeout is the stall the test absorbs.
		budget := timeout - 3*interval/2
		select {
		case ev := <-s.closed:
			w.Fatalf(t, budget, "idle session closed: %v", ev.reason)
		case r := <-c.closed:
			w.Fatalf(t, budget, "idle client closed: %v", r)
		default:
		}
		if err := request(testutil.Ctx(t), c.c, "echo:", "still here"); err != nil {
			w.Fatalf(t, budget, "request after idling: %v", err)
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
