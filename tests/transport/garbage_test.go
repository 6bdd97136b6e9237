package transport

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

var preface = []byte("NMGO\x02")

// garbageCases are byte streams a raw peer sends instead of the native
// protocol, with a test for the cause the server must report.
var garbageCases = []struct {
	name      string
	data      []byte
	closeSend bool // half-close after sending
	cause     func(error) bool
}{
	{
		name:  "another protocol",
		data:  []byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"),
		cause: func(err error) bool { return errors.Is(err, native.ErrPreface) },
	},
	{
		name: "another protocol version",
		data: []byte("NMGO\x03\x01\x00\x00\x00\x00"),
		cause: func(err error) bool {
			return errors.Is(err, native.ErrPreface) && strings.Contains(err.Error(), "version 3")
		},
	},
	{
		name:  "random bytes",
		data:  randomBytes(4096),
		cause: func(err error) bool { return errors.Is(err, native.ErrPreface) },
	},
	{
		name:  "unknown frame type",
		data:  append(bytes.Clone(preface), 0x7f, 1, 2, 3),
		cause: func(err error) bool { return strings.Contains(err.Error(), "unknown frame type 0x7f") },
	},
	{
		name:  "frame over the size limit",
		data:  append(bytes.Clone(preface), 0x01, 0xff, 0xff, 0xff, 0xf0),
		cause: func(err error) bool { return errors.Is(err, base.ErrPacketTooLarge) },
	},
	{
		name:  "response to a request never sent",
		data:  append(bytes.Clone(preface), 0x03, 0, 0, 0, 99, 0, 0, 0, 2, 'h', 'i'),
		cause: func(err error) bool { return errors.Is(err, base.ErrUnknownResponse) },
	},
	{
		name:      "stream ends inside a packet",
		data:      append(bytes.Clone(preface), 0x01, 0, 0, 0, 100, 'a', 'b', 'c'),
		closeSend: true,
		cause:     func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) },
	},
}

// randomBytes returns n reproducible pseudo-random bytes that do not start
// like the preface.
func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	b[0] = 0xff
	return b
}

// TestGarbageClosesOnlyItsSession keeps 50 clients exchanging requests both
// ways while raw connections send garbage to the same server: each raw
// connection's session closes with ReasonProtocolError and an error event
// naming the cause, the raw peer sees its connection end, and the 50 others
// go on working as if nothing happened.
func TestGarbageClosesOnlyItsSession(t *testing.T) {
	s := startServer(t, testutil.Listen(t))
	clients := connectMany(t, s, manyClients)
	l := startLoad(t, clients, 1000)
	// The load is under way before the garbage comes...
	testutil.Eventually(t, "the load to start", func() bool { return l.rounds.Load() >= 100 })

	for _, gc := range garbageCases {
		t.Run(gc.name, func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", s.addr, testutil.WaitTime)
			testutil.Must(t, err)
			defer conn.Close()
			sess := testutil.Recv(t, s.opened, "raw session opened")
			_, err = conn.Write(gc.data)
			testutil.Must(t, err)
			if gc.closeSend {
				testutil.Must(t, conn.(*net.TCPConn).CloseWrite())
			}

			closed := testutil.Recv(t, s.closed, "raw session closed")
			if closed.s != sess || closed.reason != base.ReasonProtocolError {
				t.Errorf("closed session %d with %v, want session %d with protocol error", closed.s.ID(), closed.reason, sess.ID())
			}
			ev := testutil.Recv(t, s.errs, "error event")
			var ce *base.CloseError
			if ev.s != sess || !errors.As(ev.err, &ce) || ce.Reason != base.ReasonProtocolError || !gc.cause(ev.err) {
				t.Errorf("error event from session %v: %v, want the protocol error of session %d", ev.s.ID(), ev.err, sess.ID())
			}

			// The raw peer sees the server's preface (unless the server's
			// close reset the connection) and then the end of the stream.
			testutil.Must(t, conn.SetReadDeadline(time.Now().Add(testutil.WaitTime)))
			got, err := io.ReadAll(conn)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal("the raw connection stayed open")
			}
			if !bytes.HasPrefix(preface, got) && !bytes.HasPrefix(got, preface) {
				t.Errorf("raw peer read % x, want the preface % x", got, preface)
			}
		})
	}

	// ...and goes on after it.
	after := l.rounds.Load()
	testutil.Eventually(t, "the load to go on", func() bool { return l.rounds.Load() >= after+100 })
	rounds := l.finish(t)
	t.Logf("%d request rounds while garbage came in", rounds)
	for i, c := range clients {
		if err := c.peer.Err(); err != nil {
			t.Errorf("client %d's session closed: %v", i, err)
		}
		if err := request(testutil.Ctx(t), c.c, "echo:", "after"); err != nil {
			t.Errorf("client %d after the garbage: %v", i, err)
		}
	}
	select {
	case ev := <-s.closed:
		t.Errorf("session %d closed too: %v", ev.s.ID(), ev.reason)
	case ev := <-s.errs:
		t.Errorf("unexpected error event: %v", ev.err)
	default:
	}
}
