package base_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// assertClosedThenError checks that the end recorded by rec closed with
// ReasonProtocolError and then raised an error event matching want, in that
// order, and returns the error.
func assertClosedThenError(t *testing.T, rec *recorder, want error) error {
	t.Helper()
	if r := receive(t, rec.closed, "closed event"); r != base.ReasonProtocolError {
		t.Fatalf("reason %v, want %v", r, base.ReasonProtocolError)
	}
	err := receive(t, rec.errs, "error event")
	if !errors.Is(err, base.ReasonProtocolError) || !errors.Is(err, base.ErrClosed) {
		t.Fatalf("error event %v, want a protocol error close", err)
	}
	if want != nil && !errors.Is(err, want) {
		t.Fatalf("error event %v, want it to match %v", err, want)
	}
	log := rec.eventLog()
	ci := slices.Index(log, "closed:"+base.ReasonProtocolError.String())
	ei := slices.IndexFunc(log, func(e string) bool { return strings.HasPrefix(e, "error:") })
	if ci < 0 || ei < ci {
		t.Fatalf("events %q: want the closed event before the error event", log)
	}
	return err
}

func TestGarbageInput(t *testing.T) {
	const limit = 1024
	header := func(typ byte, n uint32) []byte { return binary.BigEndian.AppendUint32([]byte{typ}, n) }
	cases := []struct {
		name  string
		input [][]byte
		want  error
		half  bool // half-close after sending
	}{
		{"wrong preface", [][]byte{[]byte("GET / HTTP/1.1\r\n\r\n")}, native.ErrPreface, false},
		{"wrong version", [][]byte{[]byte("NMGO\x03")}, native.ErrPreface, false},
		{"unknown frame type", [][]byte{preface, {0x7f, 1, 2, 3}}, nil, false},
		{"message over the size limit", [][]byte{preface, header(0x01, limit+1)}, base.ErrPacketTooLarge, false},
		{"request over the size limit", [][]byte{preface, header(0x02, 9), {0, 0, 4, 1}}, base.ErrPacketTooLarge, false},
		{"huge length", [][]byte{preface, header(0x03, 0), {0xff, 0xff, 0xff, 0xff}}, base.ErrPacketTooLarge, false},
		{"stream ends inside a packet", [][]byte{preface, header(0x01, 10), []byte("abc")}, io.ErrUnexpectedEOF, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t, []base.ServerOption{base.OnRequest(echo), base.WithMaxPacketSize(limit)}, nil)
			peer := dialRaw(t, p.addr)
			peer.send(tc.input...)
			if tc.half {
				if err := peer.conn.(*net.TCPConn).CloseWrite(); err != nil {
					t.Fatal(err)
				}
			}
			bad := receive(t, p.srvRec.opened, "raw session opened")
			err := assertClosedThenError(t, p.srvRec, tc.want)
			t.Logf("error event: %v", err)
			closeErr(t, "raw session Err", bad.Err(), base.ReasonProtocolError)
			peer.expectEnd()

			// The other client is unaffected.
			none(t, p.cliRec.closed, "good client close")
			if resp, err := p.client.Request(ctxT(t), []byte("ok")); err != nil || string(resp) != "echo:ok" {
				t.Fatalf("good client: %q, %v", resp, err)
			}
			if err := p.client.SendMessage(ctxT(t), []byte("still here")); err != nil {
				t.Fatal(err)
			}
			if m := receive(t, p.srvRec.messages, "good client's message"); m != "still here" {
				t.Fatalf("message %q", m)
			}
			if got := p.srv.Sessions(); len(got) != 1 || got[0] != p.srvSess {
				t.Fatalf("sessions %v, want only the good one", got)
			}
		})
	}
}

// Packets decoded before a bad frame, even in the same read, are handled:
// messages are delivered before the closed event and requests answered
// before the connection ends.
func TestPacketsBeforeBadFrameAreHandled(t *testing.T) {
	p := newPair(t, []base.ServerOption{base.OnRequest(echo)}, nil)
	peer := dialRaw(t, p.addr)
	peer.send(
		preface,
		frame(t, base.KindMessage, 0, "a"),
		frame(t, base.KindMessage, 0, "b"),
		frame(t, base.KindRequest, 5, "q"),
		frame(t, base.KindMessage, 0, "c"),
		[]byte{0x7f, 0, 0, 0, 0, 0},
	)
	receive(t, p.srvRec.opened, "raw session opened")
	for _, want := range []string{"a", "b", "c"} {
		if m := receive(t, p.srvRec.messages, "message"); m != want {
			t.Fatalf("message %q, want %q", m, want)
		}
	}
	assertClosedThenError(t, p.srvRec, nil)
	log := p.srvRec.eventLog()
	if i, j := slices.Index(log, "message:c"), slices.Index(log, "closed:protocol error"); i < 0 || j < i {
		t.Fatalf("events %q: messages must come before the closed event", log)
	}
	r := peer.expect(base.KindResponse, "echo:q")
	if r.ID != 5 {
		t.Fatalf("response id %d, want 5", r.ID)
	}
	peer.expectEnd()
}

func TestSendOverMaxPacketSize(t *testing.T) {
	const limit = 1024
	p := newPair(t,
		[]base.ServerOption{base.WithMaxPacketSize(limit), base.OnRequest(func(_ context.Context, _ *base.Session, q []byte) []byte {
			if string(q) == "big" {
				return make([]byte, limit+1)
			}
			return q
		})},
		[]base.ClientOption{base.WithMaxPacketSize(limit), base.WithResponseTimeout(time.Second)})
	ctx := ctxT(t)
	big := make([]byte, limit+1)
	for name, s := range map[string]sender{"client": p.client, "server session": p.srvSess} {
		if err := s.SendMessage(ctx, big); !errors.Is(err, base.ErrPacketTooLarge) {
			t.Errorf("%s SendMessage: %v, want ErrPacketTooLarge", name, err)
		}
		if _, err := s.Request(ctx, big); !errors.Is(err, base.ErrPacketTooLarge) {
			t.Errorf("%s Request: %v, want ErrPacketTooLarge", name, err)
		}
	}
	// A payload of exactly the limit goes through, both ways.
	exact := bytes.Repeat([]byte{'x'}, limit)
	if err := p.client.SendMessage(ctx, exact); err != nil {
		t.Fatal(err)
	}
	if m := receive(t, p.srvRec.messages, "message at the limit"); len(m) != limit {
		t.Fatalf("got %d bytes", len(m))
	}
	if resp, err := p.client.Request(ctx, exact); err != nil || !bytes.Equal(resp, exact) {
		t.Fatalf("request at the limit: %d bytes, %v", len(resp), err)
	}
	// A response over the limit is not sent: an error event on the server,
	// a timeout for the caller, and the connection stays open.
	if _, err := p.client.Request(ctx, []byte("big")); !errors.Is(err, base.ErrRequestTimeout) {
		t.Fatalf("request for a big response: %v", err)
	}
	if err := receive(t, p.srvRec.errs, "error event"); !errors.Is(err, base.ErrPacketTooLarge) {
		t.Fatalf("error event %v", err)
	}
	none(t, p.cliRec.closed, "client close")
	none(t, p.srvRec.closed, "server close")
	if resp, err := p.client.Request(ctx, []byte("small")); err != nil || string(resp) != "small" {
		t.Fatalf("request after: %q, %v", resp, err)
	}
}

// badProto is a Protocol that misbehaves on purpose: it never finds a whole
// packet, or claims to have used more bytes than it was given.
type badProto struct{ overrun bool }

func (badProto) Preface() []byte   { return nil }
func (badProto) Heartbeat() []byte { return nil }
func (badProto) Append(dst []byte, p base.Packet) ([]byte, error) {
	return append(dst, p.Payload...), nil
}
func (b badProto) Decode(buf []byte, limit int) (base.Packet, int, error) {
	if b.overrun && len(buf) > 0 {
		return base.Packet{}, len(buf) + 1, nil
	}
	return base.Packet{}, 0, nil
}

func TestMisbehavingProtocol(t *testing.T) {
	const limit = 1024
	for _, tc := range []struct {
		name    string
		overrun bool
		want    string
	}{
		{"consumes more than given", true, "protocol consumed"},
		{"never finds a packet", false, "without a whole packet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			srv := base.NewServer(func() base.Protocol { return badProto{tc.overrun} },
				rec.server(base.WithMaxPacketSize(limit))...)
			peer := dialRaw(t, serve(t, srv))
			receive(t, rec.opened, "session opened")
			// More than the largest frame: the payload limit, up to three
			// bytes for each metadata byte and the frame's overhead.
			peer.send(make([]byte, 2*limit+4*base.DefaultMaxMetadataBytes))
			err := assertClosedThenError(t, rec, nil)
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to mention %q", err, tc.want)
			}
		})
	}
}

// Error events the reader raises for input (a request with no handler
// here) count towards WithMaxQueuedBytes like messages: while the error
// hook falls behind, the reader stops reading that peer instead of queuing
// error events without bound. In a bubble, the peer's write that waits for
// the stopped reader ends at its deadline at once.
func TestUnhandledRequestsBoundedByQueuedBytes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		first := make(chan error, 1)
		release := make(chan struct{})
		srv := base.NewServer(native.New, base.WithMaxQueuedBytes(4<<10),
			base.OnError(func(_ *base.Session, err error) {
				select {
				case first <- err:
				default:
				}
				<-release
			}))
		ln := newMemListener()
		serveMem(t, srv, ln)
		conn, err := ln.dial(context.Background(), "", "")
		if err != nil {
			t.Fatal(err)
		}
		peer := newRawPeer(t, conn)
		t.Cleanup(func() { close(release) }) // before the server closes
		req := frame(t, base.KindRequest, 1, strings.Repeat("r", 1<<10))
		chunk := bytes.Repeat(req, (1<<20)/len(req))
		if _, err := peer.conn.Write(preface); err != nil {
			t.Fatal(err)
		}
		const total = 128 << 20 // far more than the connection's buffers hold
		sent := 0
		for sent < total {
			if err := peer.conn.SetWriteDeadline(time.Now().Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			n, err := peer.conn.Write(chunk)
			sent += n
			if err != nil {
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					t.Fatalf("raw write: %v", err)
				}
				break // the server stopped reading: what it holds is bounded
			}
		}
		if err := receive(t, first, "error event"); !errors.Is(err, base.ErrNoHandler) {
			t.Fatalf("error event %v, want ErrNoHandler", err)
		}
		if sent >= total {
			t.Fatalf("the server read all %d bytes of requests while its error hook was blocked", sent)
		}
	})
}

// TestUnsendableResponseReplaced checks that OnUnsendableResponse answers
// in place of a response over the limit or refused by the Protocol, at
// once, with the reason also raised as an error event.
func TestUnsendableResponseReplaced(t *testing.T) {
	const limit = 1024
	replaced := make(chan error, 2)
	p := newPair(t,
		[]base.ServerOption{
			base.WithMaxPacketSize(limit),
			base.OnRequest(func(_ context.Context, _ *base.Session, q []byte) []byte {
				if string(q) == "big" {
					return make([]byte, limit+1)
				}
				return q
			}),
			base.OnUnsendableResponse(func(_ *base.Session, err error) []byte {
				replaced <- err
				return []byte("refused")
			}),
		},
		[]base.ClientOption{base.WithResponseTimeout(time.Minute)})
	start := time.Now()
	resp, err := p.client.Request(ctxT(t), []byte("big"))
	if err != nil || string(resp) != "refused" {
		t.Fatalf("request for a big response: %q, %v; want the replacement", resp, err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("replacement took %v", d)
	}
	if err := receive(t, replaced, "hook call"); !errors.Is(err, base.ErrPacketTooLarge) {
		t.Fatalf("hook got %v, want ErrPacketTooLarge", err)
	}
	if err := receive(t, p.srvRec.errs, "error event"); !errors.Is(err, base.ErrPacketTooLarge) {
		t.Fatalf("error event %v", err)
	}
	if resp, err := p.client.Request(ctxT(t), []byte("ok")); err != nil || string(resp) != "ok" {
		t.Fatalf("next request: %q, %v", resp, err)
	}
	none(t, p.cliRec.closed, "client close")
}

// panicky is the native protocol, except that Append panics on a payload
// "append-panic" and Decode on a packet whose payload is "decode-panic".
type panicky struct{ base.Protocol }

func newPanicky() base.Protocol { return panicky{native.New()} }

func (p panicky) Append(dst []byte, pkt base.Packet) ([]byte, error) {
	if string(pkt.Payload) == "append-panic" {
		panic("append")
	}
	return p.Protocol.Append(dst, pkt)
}

func (p panicky) Decode(buf []byte, limit int) (base.Packet, int, error) {
	pkt, n, err := p.Protocol.Decode(buf, limit)
	if string(pkt.Payload) == "decode-panic" {
		panic("decode")
	}
	return pkt, n, err
}

// A Protocol that panics in Append fails that one send (a response is
// replaced as for any refused response) and the session goes on; one that
// panics in Decode closes that connection with ReasonProtocolError. The
// process and the other sessions carry on, and every Close returns.
func TestProtocolPanics(t *testing.T) {
	srvRec := newRecorder()
	srv := base.NewServer(newPanicky, srvRec.server(
		base.OnRequest(func(_ context.Context, _ *base.Session, q []byte) []byte {
			if string(q) == "answer with a panic" {
				return []byte("append-panic")
			}
			return q
		}),
		base.OnUnsendableResponse(func(*base.Session, error) []byte { return []byte("replaced") }),
	)...)
	addr := serve(t, srv)
	c, _, sess := connect(t, addr, newRecorder(), srvRec)
	other, _, _ := connect(t, addr, newRecorder(), srvRec)

	// Append panics on the sending side: the send fails with the panic.
	if err := sess.SendMessage(ctxT(t), []byte("append-panic")); !errors.As(err, new(*base.PanicError)) {
		t.Fatalf("SendMessage: %v, want a *base.PanicError", err)
	}
	if resp, err := c.Request(ctxT(t), []byte("answer with a panic")); err != nil || string(resp) != "replaced" {
		t.Fatalf("request whose response panics in Append: %q, %v", resp, err)
	}
	if err := receive(t, srvRec.errs, "error event"); !errors.As(err, new(*base.PanicError)) {
		t.Fatalf("error event %v, want a *base.PanicError", err)
	}
	if resp, err := c.Request(ctxT(t), []byte("still there?")); err != nil || string(resp) != "still there?" {
		t.Fatalf("after the Append panics: %q, %v", resp, err)
	}

	// Decode panics on the server: that connection closes.
	if err := c.SendMessage(ctxT(t), []byte("decode-panic")); err != nil {
		t.Fatal(err)
	}
	if r := receive(t, srvRec.closed, "closed event"); r != base.ReasonProtocolError {
		t.Fatalf("reason %v, want %v", r, base.ReasonProtocolError)
	}
	if err := receive(t, srvRec.errs, "error event"); !errors.Is(err, base.ReasonProtocolError) || !errors.As(err, new(*base.PanicError)) {
		t.Fatalf("error event %v, want a *base.PanicError", err)
	}
	done := make(chan struct{})
	go func() { sess.Close(); close(done) }()
	receive(t, done, "Close to return")
	if resp, err := other.Request(ctxT(t), []byte("ok")); err != nil || string(resp) != "ok" {
		t.Fatalf("other client: %q, %v", resp, err)
	}
}
