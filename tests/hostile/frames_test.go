package hostile

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// Liveness settings of the frame tests: a silent peer is dropped after
// receiveTimeout.
const (
	hbInterval     = 50 * time.Millisecond
	receiveTimeout = 500 * time.Millisecond
)

// frameCase is one row of the frame matrix: what a raw peer sends, and how
// the server must end its session.
type frameCase struct {
	name      string
	data      []byte
	closeSend bool // half-close after sending
	reason    base.CloseReason
	// cause matches the error event; nil when the reason raises none (a
	// receive timeout is not an error).
	cause func(error) bool
	// maxAlloc, if set, bounds the bytes the whole process may allocate
	// from sending to the close, which are reported as a figure.
	maxAlloc uint64
	claimed  uint64 // the length the frame claims, for the figure
}

func is(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

func mentions(target error, text string) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) && strings.Contains(err.Error(), text) }
}

func says(text string) func(error) bool {
	return func(err error) bool { return strings.Contains(err.Error(), text) }
}

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	b[0] = 0xff // not the preface
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// The frame matrix. Rows also covered at the transport level elsewhere:
// base/protoerr_test.go TestGarbageInput (wrong preface and version,
// unknown frame type, over the limit, stream ends inside a packet),
// base/request_test.go TestUnknownResponseClosesWithProtocolError,
// tests/transport/garbage_test.go TestGarbageClosesOnlyItsSession (the
// same under load from 50 clients) and tests/transport/limits_test.go
// TestSilentPeerIsLost (preface, then silence). Here every row runs
// against the typed server, whose healthy session must keep working.
var frameCases = []frameCase{
	{name: "random bytes", data: randomBytes(4096),
		reason: base.ReasonProtocolError, cause: is(native.ErrPreface)},
	{name: "HTTP request", data: []byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"),
		reason: base.ReasonProtocolError, cause: is(native.ErrPreface)},
	{name: "TLS client hello", data: []byte("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"),
		reason: base.ReasonProtocolError, cause: mentions(native.ErrPreface, "TLS record")},
	{name: "another protocol version", data: []byte("NMGO\x03\x01\x00\x00\x00\x00"),
		reason: base.ReasonProtocolError, cause: mentions(native.ErrPreface, "version 3")},
	{name: "unknown packet kind", data: cat(preface, []byte{0x7f, 0, 0, 0, 1, 'x'}),
		reason: base.ReasonProtocolError, cause: says("unknown frame type 0x7f")},
	{name: "message claiming 4 GiB", data: cat(preface, header(0x01, 0, 0xffffffff, false)),
		reason: base.ReasonProtocolError, cause: is(base.ErrPacketTooLarge), maxAlloc: 256 << 10, claimed: 0xffffffff},
	{name: "request claiming 4 GiB", data: cat(preface, header(0x02, 1, 0xffffffff, true)),
		reason: base.ReasonProtocolError, cause: is(base.ErrPacketTooLarge), maxAlloc: 256 << 10, claimed: 0xffffffff},
	{name: "response claiming 4 GiB", data: cat(preface, header(0x03, 1, 0xffffffff, true)),
		reason: base.ReasonProtocolError, cause: is(base.ErrPacketTooLarge), maxAlloc: 256 << 10, claimed: 0xffffffff},
	{name: "truncated frame, then the stream ends", data: cat(preface, header(0x01, 0, 100, false), []byte("abc")), closeSend: true,
		reason: base.ReasonProtocolError, cause: is(io.ErrUnexpectedEOF)},
	{name: "truncated header, then silence", data: cat(preface, []byte{0x02, 0, 0}),
		reason: base.ReasonConnectionLost},
	{name: "truncated frame, then silence", data: cat(preface, header(0x01, 0, 4<<20-1, false), make([]byte, 64<<10)),
		reason: base.ReasonConnectionLost, maxAlloc: 1 << 20, claimed: 4<<20 - 1},
	{name: "response for an unknown id", data: cat(preface, header(0x03, 99, 2, true), []byte("hi")),
		reason: base.ReasonProtocolError, cause: is(base.ErrUnknownResponse)},
}

// TestFrames sends each row of the frame matrix over its own raw
// connection to one typed server. The row's session, and only it, closes
// with the row's reason and (for protocol errors) an error event naming
// the cause; the raw peer sees its connection end; then a healthy session
// on the same server answers a request. Rows with a lying length measure
// what the whole process allocated meanwhile: bounded by the bytes
// actually sent, not by the length claimed.
func TestFrames(t *testing.T) {
	hb := netmessage.WithTransport(base.WithHeartbeat(hbInterval, receiveTimeout))
	s := startServer(t, hb)
	h := s.connectHealthy(t, hb)
	h.check(t)
	for _, fc := range frameCases {
		t.Run(fc.name, func(t *testing.T) {
			r, sess := s.dialRaw(t)
			before := allocated(true)
			start := time.Now()
			r.send(fc.data)
			if fc.closeSend {
				testutil.Must(t, r.conn.(*net.TCPConn).CloseWrite())
			}
			s.expectClosed(t, sess, fc.reason)
			if fc.cause != nil {
				s.expectError(t, sess, fc.cause)
			}
			elapsed := time.Since(start)
			alloc := allocated(false) - before
			if fc.maxAlloc > 0 {
				t.Logf("figure: %s: %d bytes sent, %d claimed, %d allocated, closed after %v",
					fc.name, len(fc.data), fc.claimed, alloc, elapsed.Round(10*time.Microsecond))
				if alloc > fc.maxAlloc {
					t.Errorf("the process allocated %d bytes, over %d", alloc, fc.maxAlloc)
				}
			}
			if err := sess.Err(); !errors.Is(err, fc.reason) {
				t.Errorf("session Err() = %v, want %v", err, fc.reason)
			}
			r.expectEnd()
			h.check(t)
		})
	}
	testutil.None(t, s.errs, "error event")
}

// TestDuplicateResponse: the server asks the raw peer, which answers the
// same request twice. The first answer completes the request; the second
// is a response for an id no longer pending, which closes the session as
// a protocol error.
func TestDuplicateResponse(t *testing.T) {
	s := startServer(t)
	h := s.connectHealthy(t)
	r, sess := s.dialRaw(t)
	r.send(preface)

	answered := make(chan error, 1)
	go func() {
		resp, err := sess.Request(testutil.Ctx(t), []byte("question"))
		if err == nil && string(resp) != "answer" {
			err = errors.New("answer " + string(resp))
		}
		answered <- err
	}()
	q := r.next()
	if q.Kind != base.KindRequest || string(q.Payload) != "question" {
		t.Fatalf("raw peer got %v %q, want the request", q.Kind, q.Payload)
	}
	r.send(frame(t, base.KindResponse, q.ID, []byte("answer")), frame(t, base.KindResponse, q.ID, []byte("answer again")))
	testutil.Must(t, testutil.Recv(t, answered, "the request's answer"))

	s.expectClosed(t, sess, base.ReasonProtocolError)
	s.expectError(t, sess, is(base.ErrUnknownResponse))
	r.expectEnd()
	h.check(t)
	testutil.None(t, s.errs, "error event")
}

// expectClosed waits for the closed event of sess and checks its reason.
func (s *server) expectClosed(t *testing.T, sess *base.Session, reason base.CloseReason) {
	t.Helper()
	ev := testutil.Recv(t, s.closed, "the raw session to close")
	if ev.s != sess || ev.reason != reason {
		t.Fatalf("session %d closed with %v, want session %d with %v", ev.s.ID(), ev.reason, sess.ID(), reason)
	}
}

// expectError waits for the error event of sess and checks that it is a
// protocol error close matching cause.
func (s *server) expectError(t *testing.T, sess *base.Session, cause func(error) bool) {
	t.Helper()
	ev := testutil.Recv(t, s.errs, "the raw session's error event")
	var ce *base.CloseError
	if ev.p != sess || !errors.As(ev.err, &ce) || ce.Reason != base.ReasonProtocolError || !cause(ev.err) {
		t.Fatalf("error event %v, want the protocol error of session %d", ev.err, sess.ID())
	}
	t.Logf("error event: %v", ev.err)
}
