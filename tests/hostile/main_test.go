// Package hostile is the hostile-input suite of NetMessage for Go: raw
// peers that send garbage, lie about lengths, stall inside frames or answer
// twice, and payloads built to exhaust a decoder, all against a real typed
// server on loopback. Each case must close (or, for payload bombs, refuse)
// only its own session, cheaply, while a healthy session on the same server
// keeps working.
package hostile

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Echo is the healthy clients' request.
type Echo struct {
	netmessage.Returns[EchoReply]
	Text string
}

// EchoReply answers an Echo.
type EchoReply struct{ Text string }

// Item is an element of Target.Items.
type Item struct {
	Name string
	Qty  int32
}

// Target is the request the bombs are aimed at: a representative struct
// with a nested slice, a string and bytes.
type Target struct {
	netmessage.Returns[Ack]
	ID    uint64
	Name  string
	Items []Item
	Data  []byte
}

// NetMessageTypeID gives Target a short id for hand-built payloads.
func (Target) NetMessageTypeID() string { return targetID }

const targetID = "hostile.Target"

// Ack answers a Target.
type Ack struct{ Items int }

// closeEvent is a session's closed event.
type closeEvent struct {
	s      *base.Session
	reason base.CloseReason
}

// errorEvent is an error event.
type errorEvent struct {
	p   *base.Session
	err error
}

// server is a typed server serving loopback, answering Echo and Target
// requests.
type server struct {
	mux       *netmessage.Mux
	srv       *base.Server
	addr      string
	opened    chan *base.Session
	closed    chan closeEvent
	errs      chan errorEvent
	unhandled chan string
	targets   chan Target // Target messages received
	sessions  testutil.Sessions
}

// startServer starts a typed server with opts (netmessage or base
// options). It is closed when the test ends, and Serve must then return;
// then its sessions must finish, their handlers too (a flood's decoding
// may outlast its attacker's connection).
func startServer(t *testing.T, opts ...any) *server {
	t.Helper()
	s := &server{
		opened:    make(chan *base.Session, 64),
		closed:    make(chan closeEvent, 64),
		errs:      make(chan errorEvent, 256),
		unhandled: make(chan string, 64),
		targets:   make(chan Target, 64),
	}
	all := []any{
		base.OnSessionOpened(func(sess *base.Session) {
			s.sessions.Add(sess.Done())
			s.opened <- sess
		}),
		base.OnSessionClosed(func(sess *base.Session, r base.CloseReason) { s.closed <- closeEvent{sess, r} }),
		base.OnError(func(p *base.Session, err error) { s.errs <- errorEvent{p, err} }),
		netmessage.OnUnhandled(func(_ *base.Session, kind base.Kind, id string) { s.unhandled <- kind.String() + " " + id }),
	}
	s.mux, s.srv = testutil.TypedServer(t, append(all, opts...)...)
	testutil.Must(t, netmessage.HandleRequest(s.mux, func(_ context.Context, _ *base.Session, q Echo) (EchoReply, error) {
		return EchoReply{Text: q.Text}, nil
	}))
	testutil.Must(t, netmessage.HandleRequest(s.mux, func(_ context.Context, _ *base.Session, q Target) (Ack, error) {
		return Ack{Items: len(q.Items)}, nil
	}))
	testutil.Must(t, netmessage.HandleMessage(s.mux, func(_ context.Context, _ *base.Session, m Target) { s.targets <- m }))
	s.addr, _ = testutil.ServeLoopback(t, s.srv, &s.sessions)
	return s
}

// healthy is a typed client whose session must survive everything the
// hostile peers do.
type healthy struct {
	c      *base.Client
	peer   *base.Session // the server's session for it
	closed chan base.CloseReason
}

// connectHealthy connects a typed client to s with opts (netmessage or
// base options).
func (s *server) connectHealthy(t *testing.T, opts ...any) *healthy {
	t.Helper()
	h := &healthy{closed: make(chan base.CloseReason, 1)}
	all := []any{
		base.OnDisconnected(func(_ *base.Session, r base.CloseReason) { h.closed <- r }),
	}
	_, h.c = testutil.TypedClient(t, append(all, opts...)...)
	testutil.Must(t, h.c.Connect(testutil.Ctx(t), s.addr))
	testutil.CloseClient(t, h.c, h.c)
	h.peer = testutil.Recv(t, s.opened, "healthy session opened")
	return h
}

// check sends an Echo through the healthy session and fails the test
// unless it is answered and the session is still open.
func (h *healthy) check(t *testing.T) {
	t.Helper()
	text := "still here " + t.Name()
	reply, err := netmessage.Request(testutil.Ctx(t), h.c, Echo{Text: text})
	if err != nil || reply.Text != text {
		t.Fatalf("healthy session: %+v, %v", reply, err)
	}
	select {
	case r := <-h.closed:
		t.Fatalf("healthy client closed: %v", r)
	default:
	}
	if err := h.peer.Err(); err != nil {
		t.Fatalf("healthy session closed: %v", err)
	}
}

// raw is a hand-driven connection to the server.
type raw struct {
	t    *testing.T
	conn net.Conn
	buf  []byte
	dec  base.Protocol
}

// dialRaw connects a raw peer to s and returns it with the server's
// session for it.
func (s *server) dialRaw(t *testing.T) (*raw, *base.Session) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", s.addr, testutil.WaitTime)
	testutil.Must(t, err)
	t.Cleanup(func() { conn.Close() })
	return &raw{t: t, conn: conn, dec: native.New()}, testutil.Recv(t, s.opened, "raw session opened")
}

// send writes the chunks with one Write.
func (r *raw) send(chunks ...[]byte) {
	r.t.Helper()
	testutil.Must(r.t, r.conn.SetWriteDeadline(time.Now().Add(testutil.WaitTime)))
	_, err := r.conn.Write(bytes.Join(chunks, nil))
	testutil.Must(r.t, err)
}

// next returns the next packet the server sent, skipping its preface and
// heartbeats.
func (r *raw) next() base.Packet {
	r.t.Helper()
	testutil.Must(r.t, r.conn.SetReadDeadline(time.Now().Add(testutil.WaitTime)))
	p, err := r.read()
	if err != nil {
		r.t.Fatalf("raw peer: %v", err)
	}
	return p
}

// read returns the next packet the server sent, skipping its preface and
// heartbeats, or the error that ended the stream or its decoding.
func (r *raw) read() (base.Packet, error) {
	for {
		p, n, err := r.dec.Decode(r.buf, 1<<30)
		if err != nil {
			return p, err
		}
		if n > 0 {
			r.buf = r.buf[n:]
			if p.Kind != base.KindNone {
				p.Payload = bytes.Clone(p.Payload)
				return p, nil
			}
			continue
		}
		chunk := make([]byte, 4096)
		m, err := r.conn.Read(chunk)
		r.buf = append(r.buf, chunk[:m]...)
		if err != nil && m == 0 {
			return base.Packet{}, err
		}
	}
}

// expectEnd reads until the server ends the connection.
func (r *raw) expectEnd() {
	r.t.Helper()
	testutil.Must(r.t, r.conn.SetReadDeadline(time.Now().Add(testutil.WaitTime)))
	_, err := io.Copy(io.Discard, r.conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		r.t.Fatal("the server left the raw connection open")
	}
}

// preface is the native protocol's preface.
var preface = []byte("NMGO\x02")

// header returns a native frame header: type byte, optional id, length.
func header(typ byte, id uint32, n uint32, withID bool) []byte {
	b := []byte{typ}
	if withID {
		b = append(b, byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
	}
	return append(b, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// frame returns a whole native frame.
func frame(t *testing.T, kind base.Kind, id uint32, payload []byte) []byte {
	t.Helper()
	b, err := native.New().Append(nil, base.Packet{Kind: kind, ID: id, Payload: payload})
	testutil.Must(t, err)
	return b
}

// allocated returns the bytes the process has allocated so far, after a
// collection when gc is set.
func allocated(gc bool) uint64 {
	if gc {
		runtime.GC()
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}
