package base_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// upper is a Handler: it answers a request with its payload in upper case,
// records messages, and replaces an unsendable response with "too big".
type upper struct {
	messages   chan string
	unsendable chan error
}

func newUpper() *upper {
	return &upper{messages: make(chan string, 16), unsendable: make(chan error, 4)}
}

func (u *upper) ServeMessage(_ context.Context, _ *base.Session, payload []byte) {
	u.messages <- string(payload)
}

func (u *upper) ServeRequest(_ context.Context, _ *base.Session, payload []byte) []byte {
	if bytes.Equal(payload, []byte("big")) {
		return bytes.Repeat([]byte("x"), 2048)
	}
	return bytes.ToUpper(payload)
}

func (u *upper) ServeUnsendable(_ *base.Session, err error) []byte {
	u.unsendable <- err
	return []byte("too big")
}

// TestHandler serves messages, requests and an unsendable response through
// a Handler set with WithHandler, on both ends, and finds it again through
// Session.Handler, Server.Handler and Client.Handler.
func TestHandler(t *testing.T) {
	sh, ch := newUpper(), newUpper()
	p := newHandlerPair(t,
		[]base.ServerOption{base.WithHandler(sh), base.WithMaxPacketSize(1024)},
		[]base.ClientOption{base.WithHandler(ch)})
	if p.srv.Handler() != sh || p.srvSess.Handler() != sh || p.client.Handler() != ch || p.cliSess.Handler() != ch {
		t.Fatal("Handler does not return the handler set with WithHandler")
	}
	resp, err := p.client.Request(ctxT(t), []byte("hello"))
	if err != nil || string(resp) != "HELLO" {
		t.Fatalf("request: %q, %v", resp, err)
	}
	resp, err = p.srvSess.Request(ctxT(t), []byte("back"))
	if err != nil || string(resp) != "BACK" {
		t.Fatalf("request to the client: %q, %v", resp, err)
	}
	if err := p.client.SendMessage(ctxT(t), []byte("note")); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, sh.messages, "message"); got != "note" {
		t.Fatalf("message %q", got)
	}
	// A response over the server's packet size: ServeUnsendable answers
	// in its place, and the error event says why.
	resp, err = p.client.Request(ctxT(t), []byte("big"))
	if err != nil || string(resp) != "too big" {
		t.Fatalf("unsendable response replaced by %q, %v", resp, err)
	}
	if err := receive(t, sh.unsendable, "unsendable"); !errors.Is(err, base.ErrPacketTooLarge) {
		t.Fatalf("ServeUnsendable got %v", err)
	}
	if err := receive(t, p.srvRec.errs, "error event"); !errors.Is(err, base.ErrPacketTooLarge) {
		t.Fatalf("error event %v", err)
	}
}

// TestHooksAreAHandler: the handler of an end built with OnRequest alone
// is an adapter that serves requests, while messages still raise
// ErrNoHandler events; without hooks there is no handler.
func TestHooksAreAHandler(t *testing.T) {
	p := newPair(t, []base.ServerOption{
		base.OnRequest(func(_ context.Context, _ *base.Session, payload []byte) []byte { return payload }),
	}, nil)
	if p.srvSess.Handler() == nil {
		t.Fatal("no handler for an end with OnRequest")
	}
	if h := base.NewServer(native.New).Handler(); h != nil {
		t.Fatalf("handler %v without hooks", h)
	}
	resp, err := p.client.Request(ctxT(t), []byte("echo"))
	if err != nil || string(resp) != "echo" {
		t.Fatalf("request: %q, %v", resp, err)
	}
	// The adapter's ServeUnsendable answers nothing without the hook.
	if r := p.srvSess.Handler().ServeUnsendable(p.srvSess, base.ErrPacketTooLarge); r != nil {
		t.Fatalf("ServeUnsendable without the hook: %q", r)
	}
}

// TestInvalidOptionsRefused: options that cannot all apply make Serve,
// ListenAndServe and Connect fail with ErrInvalidOption instead of one of
// them being dropped.
func TestInvalidOptionsRefused(t *testing.T) {
	h := newUpper()
	for name, opts := range map[string][]base.Option{
		"handler and OnMessage": {base.WithHandler(h), base.OnMessage(func(context.Context, *base.Session, []byte) {})},
		"OnRequest and handler": {base.OnRequest(func(context.Context, *base.Session, []byte) []byte { return nil }), base.WithHandler(h)},
		"handler and OnUnsendableResponse": {base.WithHandler(h),
			base.OnUnsendableResponse(func(*base.Session, error) []byte { return nil })},
		"two handlers": {base.WithHandler(h), base.WithHandler(newUpper())},
		// Values of a type that cannot be compared: refused, not a panic.
		"two uncomparable handlers": {base.WithHandler(listHandler{upper: h}), base.WithHandler(listHandler{upper: h})},
		"nil handler":               {base.WithHandler(nil)},
		"nil logger":                {base.WithLogger(nil)},
		"nil option":                {nil},
	} {
		t.Run(name, func(t *testing.T) {
			var sopts []base.ServerOption
			var copts []base.ClientOption
			for _, o := range opts {
				sopts, copts = append(sopts, o), append(copts, o)
			}
			srv := base.NewServer(native.New, sopts...)
			ln := listen(t)
			if err := srv.Serve(ln); !errors.Is(err, base.ErrInvalidOption) {
				t.Errorf("Serve: %v, want ErrInvalidOption", err)
			}
			if _, err := ln.Accept(); err == nil {
				t.Error("Serve left its listener open")
			}
			if err := srv.ListenAndServe("127.0.0.1:0"); !errors.Is(err, base.ErrInvalidOption) {
				t.Errorf("ListenAndServe: %v, want ErrInvalidOption", err)
			}
			c := base.NewClient(native.New, copts...)
			if err := c.Connect(ctxT(t), "127.0.0.1:1"); !errors.Is(err, base.ErrInvalidOption) {
				t.Errorf("Connect: %v, want ErrInvalidOption", err)
			}
		})
	}
	// The same handler twice is one handler.
	p := newHandlerPair(t, []base.ServerOption{base.WithHandler(h), base.WithHandler(h)}, nil)
	if _, err := p.client.Request(ctxT(t), []byte("x")); err != nil {
		t.Fatalf("the same handler given twice: %v", err)
	}
}

// listHandler is a Handler of a type that cannot be compared.
type listHandler struct {
	*upper
	list []string
}

// reporter raises an error event for each message it gets.
type reporter struct{ upper }

func (r *reporter) ServeMessage(_ context.Context, s *base.Session, payload []byte) {
	s.ReportError(errors.New("cannot decode " + string(payload)))
}

// TestReportError: errors a handler raises with ReportError are error
// events of the session, in order with its messages.
func TestReportError(t *testing.T) {
	p := newHandlerPair(t, []base.ServerOption{base.WithHandler(&reporter{})}, nil)
	for _, m := range []string{"one", "two", "three"} {
		if err := p.client.SendMessage(ctxT(t), []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []string{"one", "two", "three"} {
		if err := receive(t, p.srvRec.errs, "error event"); err.Error() != "cannot decode "+m {
			t.Fatalf("error event %v, want the one for %q", err, m)
		}
	}
	p.srvSess.ReportError(nil) // no event
	none(t, p.srvRec.errs, "error event for a nil error")
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) messages(t *testing.T) []string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for line := range strings.Lines(b.buf.String()) {
		var r struct{ Msg string }
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, r.Msg)
	}
	return out
}

// TestLogger logs both ends' events beside their own hooks.
func TestLogger(t *testing.T) {
	var srvLog, cliLog syncBuffer
	logger := func(b *syncBuffer) *slog.Logger { return slog.New(slog.NewJSONHandler(b, nil)) }
	p := newHandlerPair(t,
		[]base.ServerOption{base.WithLogger(logger(&srvLog)), base.WithHandler(&reporter{})},
		[]base.ClientOption{base.WithLogger(logger(&cliLog))})
	if err := p.client.SendMessage(ctxT(t), []byte("x")); err != nil {
		t.Fatal(err)
	}
	receive(t, p.srvRec.errs, "error event") // the hook still runs
	if err := p.client.Disconnect(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	receive(t, p.srvRec.closed, "server closed")
	receive(t, p.cliRec.closed, "client closed")
	<-p.srvSess.Done()
	<-p.cliSess.Done()
	want := []string{"netmessage session opened", "netmessage error", "netmessage session closed"}
	if got := srvLog.messages(t); !slicesEqual(got, want) {
		t.Errorf("server log %q, want %q", got, want)
	}
	want = []string{"netmessage connected", "netmessage disconnected"}
	if got := cliLog.messages(t); !slicesEqual(got, want) {
		t.Errorf("client log %q, want %q", got, want)
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// releasing is an upper that wants its responses back.
type releasing struct {
	*upper
	released chan string
}

func (r releasing) ReleaseResponse(resp []byte) { r.released <- string(resp) }

// TestResponseReleaser: a Handler that is a ResponseReleaser gets back
// each response once the session has sent it, the refused one and its
// replacement too.
func TestResponseReleaser(t *testing.T) {
	h := releasing{newUpper(), make(chan string, 4)}
	p := newHandlerPair(t,
		[]base.ServerOption{base.WithHandler(h), base.WithMaxPacketSize(1024)}, nil)
	resp, err := p.client.Request(ctxT(t), []byte("hello"))
	if err != nil || string(resp) != "HELLO" {
		t.Fatalf("request: %q, %v", resp, err)
	}
	if got := receive(t, h.released, "released response"); got != "HELLO" {
		t.Fatalf("released %q, want the response HELLO", got)
	}
	if resp, err = p.client.Request(ctxT(t), []byte("big")); err != nil || string(resp) != "too big" {
		t.Fatalf("unsendable response replaced by %q, %v", resp, err)
	}
	if got := receive(t, h.released, "refused response"); len(got) != 2048 {
		t.Fatalf("released %d bytes, want the refused response's 2048", len(got))
	}
	if got := receive(t, h.released, "replacement"); got != "too big" {
		t.Fatalf("released %q, want the replacement", got)
	}
	select {
	case got := <-h.released:
		t.Fatalf("released %q once more", got)
	default:
	}
}
