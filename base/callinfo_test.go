package base_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// echoMeta answers a request with its metadata, as "k=v;" pairs in key
// order (only the keys "auth" and "tenant").
func echoMeta(ctx context.Context, _ *base.Session, _ []byte) []byte {
	md := base.IncomingMetadata(ctx)
	return []byte("auth=" + md["auth"] + ";tenant=" + md["tenant"])
}

func TestMetadataRoundTrip(t *testing.T) {
	type seen struct {
		md   base.Metadata
		body string
	}
	srvMsgs, cliMsgs := make(chan seen, 1), make(chan seen, 1)
	p := newPair(t,
		[]base.ServerOption{base.OnRequest(echoMeta),
			base.OnMessage(func(ctx context.Context, _ *base.Session, b []byte) {
				srvMsgs <- seen{base.IncomingMetadata(ctx), string(b)}
			})},
		[]base.ClientOption{base.OnRequest(echoMeta),
			base.OnMessage(func(ctx context.Context, _ *base.Session, b []byte) {
				cliMsgs <- seen{base.IncomingMetadata(ctx), string(b)}
			})})

	ctx := base.AppendMetadata(ctxT(t), "Auth", "secret", "tenant", "t1")
	ctx = base.AppendMetadata(ctx, "TENANT", "t2") // replaces, case-insensitively
	if md := base.OutgoingMetadata(ctx); md["tenant"] != "t2" || md["auth"] != "secret" {
		t.Fatalf("outgoing metadata %v", md)
	}
	for _, end := range []struct {
		name string
		from *base.Session
		msgs chan seen
	}{{"client to server", p.cliSess, srvMsgs}, {"server to client", p.srvSess, cliMsgs}} {
		t.Run(end.name, func(t *testing.T) {
			resp, err := end.from.Request(ctx, []byte("q"))
			if err != nil || string(resp) != "auth=secret;tenant=t2" {
				t.Fatalf("Request: %q, %v", resp, err)
			}
			// Without metadata, the handler sees none.
			resp, err = end.from.Request(ctxT(t), []byte("q"))
			if err != nil || string(resp) != "auth=;tenant=" {
				t.Fatalf("Request without metadata: %q, %v", resp, err)
			}
			if err := end.from.SendMessage(ctx, []byte("m")); err != nil {
				t.Fatal(err)
			}
			got := receive(t, end.msgs, "message")
			if got.body != "m" || got.md["auth"] != "secret" || got.md["tenant"] != "t2" || len(got.md) != 2 {
				t.Fatalf("message %q with metadata %v", got.body, got.md)
			}
			if err := end.from.TrySendMessage(ctxT(t), []byte("plain")); err != nil {
				t.Fatal(err)
			}
			if got := receive(t, end.msgs, "message"); got.md != nil {
				t.Fatalf("message without metadata arrived with %v", got.md)
			}
		})
	}
}

func TestMetadataRefusedOnSend(t *testing.T) {
	p := newPair(t, []base.ServerOption{base.OnRequest(echoMeta)},
		[]base.ClientOption{base.WithMaxMetadataBytes(16)})
	for _, tc := range []struct {
		name string
		kv   []string
		want string
	}{
		{"reserved prefix", []string{"nm-x", "1"}, "reserved prefix"},
		{"bad key", []string{"a b", "1"}, "only ASCII letters"},
		{"empty key", []string{"", "1"}, "empty key"},
		{"over the limit", []string{"auth", strings.Repeat("x", 13)}, "17 bytes, limit 16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := base.AppendMetadata(ctxT(t), tc.kv...)
			_, err := p.cliSess.Request(ctx, []byte("q"))
			if !errors.Is(err, base.ErrMetadata) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Request: %v, want ErrMetadata with %q", err, tc.want)
			}
			err = p.cliSess.SendMessage(ctx, []byte("m"))
			if !errors.Is(err, base.ErrMetadata) {
				t.Fatalf("SendMessage: %v, want ErrMetadata", err)
			}
		})
	}
	// Nothing was sent; the connection serves on.
	if resp, err := p.cliSess.Request(base.AppendMetadata(ctxT(t), "auth", "ok"), nil); err != nil || string(resp) != "auth=ok;tenant=" {
		t.Fatalf("Request: %q, %v", resp, err)
	}
}

func TestMetadataOverReceiverLimit(t *testing.T) {
	p := newPair(t,
		[]base.ServerOption{base.OnRequest(echoMeta), base.WithMaxMetadataBytes(10)},
		[]base.ClientOption{base.WithResponseTimeout(time.Second)})
	ctx := base.AppendMetadata(context.Background(), "auth", "0123456789")
	if _, err := p.cliSess.Request(ctx, []byte("q")); !errors.Is(err, base.ErrRequestTimeout) {
		t.Fatalf("Request: %v, want the caller's timeout", err)
	}
	if err := receive(t, p.srvRec.errs, "error event"); !errors.Is(err, base.ErrMetadata) || !strings.Contains(err.Error(), "request 0 dropped") {
		t.Fatalf("error event %v, want ErrMetadata naming the request", err)
	}
	if err := p.cliSess.SendMessage(ctx, []byte("m")); err != nil {
		t.Fatal(err)
	}
	if err := receive(t, p.srvRec.errs, "error event"); !errors.Is(err, base.ErrMetadata) || !strings.Contains(err.Error(), "message dropped") {
		t.Fatalf("error event %v", err)
	}
	// The connection goes on.
	if resp, err := p.cliSess.Request(ctxT(t), []byte("q")); err != nil || string(resp) != "auth=;tenant=" {
		t.Fatalf("Request after: %q, %v", resp, err)
	}
	if err := p.srvSess.Err(); err != nil {
		t.Fatalf("server session closed: %v", err)
	}
}

// limitRecorder is the native protocol, reporting the metadata limit its
// session gives it.
type limitRecorder struct {
	*native.Protocol
	limits chan<- int
}

func (l limitRecorder) LimitMetadata(n int) {
	l.limits <- n
	l.Protocol.LimitMetadata(n)
}

// TestSessionsLimitTheirProtocolsMetadata: each session tells a protocol
// that is a MetadataLimiter its metadata limit, before it decodes, so
// that the protocol refuses larger metadata while decoding it.
func TestSessionsLimitTheirProtocolsMetadata(t *testing.T) {
	limits := make(chan int, 2)
	proto := func() base.Protocol { return limitRecorder{native.New().(*native.Protocol), limits} }
	srv := base.NewServer(proto, base.OnRequest(echoMeta), base.WithMaxMetadataBytes(1234))
	addr, _ := serveAsync(t, srv)
	c := base.NewClient(proto, base.WithMaxMetadataBytes(567))
	if err := c.Connect(ctxT(t), addr); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := []int{receive(t, limits, "a limit"), receive(t, limits, "a limit")}
	slices.Sort(got)
	if want := []int{567, 1234}; !slices.Equal(got, want) {
		t.Fatalf("limits %v, want %v (the client's and the server session's)", got, want)
	}
	ctx := base.AppendMetadata(ctxT(t), "auth", strings.Repeat("x", 500))
	if resp, err := c.Request(ctx, nil); err != nil || string(resp) != "auth="+strings.Repeat("x", 500)+";tenant=" {
		t.Fatalf("Request with metadata within the limits: %.40q, %v", resp, err)
	}
}

// TestLargestPacketWithMetadata checks that a packet whose payload is as
// large as the receiver allows, and whose metadata is within its limit,
// is received: the frame is larger than the payload by the metadata too.
func TestLargestPacketWithMetadata(t *testing.T) {
	const max = 64 << 10
	got := make(chan int, 1)
	p := newPair(t,
		[]base.ServerOption{base.OnRequest(echoMeta), base.WithMaxPacketSize(max),
			base.OnMessage(func(ctx context.Context, _ *base.Session, b []byte) {
				got <- len(b) + len(base.IncomingMetadata(ctx)["auth"])
			})},
		[]base.ClientOption{base.WithMaxPacketSize(max)})
	auth := strings.Repeat("x", base.DefaultMaxMetadataBytes-len("auth"))
	ctx := base.AppendMetadata(ctxT(t), "auth", auth)
	payload := make([]byte, max)
	resp, err := p.cliSess.Request(ctx, payload)
	if err != nil || string(resp) != "auth="+auth+";tenant=" {
		t.Fatalf("Request with a %d-byte payload and %d bytes of metadata: %.40q, %v", max, base.DefaultMaxMetadataBytes, resp, err)
	}
	if err := p.cliSess.SendMessage(ctx, payload); err != nil {
		t.Fatal(err)
	}
	if n := receive(t, got, "message"); n != max+len(auth) {
		t.Fatalf("message of %d bytes with its metadata, want %d", n, max+len(auth))
	}
	if err := p.srvSess.Err(); err != nil {
		t.Fatalf("server session closed: %v", err)
	}
}

// handlerProbe is a request handler that reports its context and waits
// for it to end (or for release), then answers "late".
type handlerProbe struct {
	started chan context.Context
	ended   chan time.Time
	release chan struct{}
}

func newProbe() *handlerProbe {
	return &handlerProbe{started: make(chan context.Context, 16), ended: make(chan time.Time, 16), release: make(chan struct{})}
}

func (h *handlerProbe) handle(ctx context.Context, _ *base.Session, _ []byte) []byte {
	h.started <- ctx
	select {
	case <-ctx.Done():
	case <-h.release:
	}
	h.ended <- time.Now()
	return []byte("late")
}

func TestCancelReachesHandler(t *testing.T) {
	h := newProbe()
	p := newPair(t, []base.ServerOption{base.OnRequest(h.handle)}, nil)
	ctx, cancel := context.WithCancel(context.Background()) // no deadline
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := p.cliSess.Request(ctx, []byte("q"))
		done <- err
	}()
	hctx := receive(t, h.started, "handler start")
	if _, ok := hctx.Deadline(); ok {
		t.Error("the handler has a deadline, but the caller gave none")
	}
	start := time.Now()
	cancel()
	if err := receive(t, done, "Request"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Request: %v, want context.Canceled", err)
	}
	ended := receive(t, h.ended, "handler end")
	t.Logf("handler's context ended %v after the cancel", ended.Sub(start))
	if d := ended.Sub(start); d > tolerance/2 { // no deadline: only the cancel ends it
		t.Errorf("handler's context ended %v after the cancel", d)
	}
	if !errors.Is(hctx.Err(), context.Canceled) {
		t.Errorf("handler's context: %v", hctx.Err())
	}
	// The late response is dropped quietly on both ends, and the
	// connection serves on.
	h2 := make(chan []byte, 1)
	go func() {
		resp, _ := p.cliSess.Request(ctxT(t), []byte("next"))
		h2 <- resp
	}()
	receive(t, h.started, "second handler")
	h.release <- struct{}{}
	if resp := receive(t, h2, "second answer"); string(resp) != "late" {
		t.Fatalf("second answer %q", resp)
	}
	none(t, p.srvRec.errs, "server error")
	none(t, p.cliRec.errs, "client error")
}

func TestDeadlineReachesHandler(t *testing.T) {
	h := newProbe()
	p := newPair(t, []base.ServerOption{base.OnRequest(h.handle), base.WithHandlerTimeout(time.Hour)}, nil)
	const d = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(ctxT(t), d)
	defer cancel()
	want, _ := ctx.Deadline()
	done := make(chan error, 1)
	sent := time.Now()
	go func() {
		_, err := p.cliSess.Request(ctx, []byte("q"))
		done <- err
	}()
	hctx := receive(t, h.started, "handler start")
	seen := time.Now()
	got, ok := hctx.Deadline()
	if !ok {
		t.Fatal("the handler's context has no deadline")
	}
	// The request carries the time left when it was sent, and the callee
	// counts it from the request's arrival: its deadline is the caller's
	// moved by the time in flight, which lies between the call and the
	// handler's start as this test saw them.
	if got.After(want.Add(seen.Sub(sent)+time.Millisecond)) || got.Before(want.Add(-tolerance)) {
		t.Fatalf("handler deadline %v from the caller's, the request %v in flight at most", got.Sub(want), seen.Sub(sent))
	}
	// The handler's context ends at the caller's deadline and it answers
	// then: an answer after the deadline loses to it, whichever the
	// caller's wait saw first.
	if err := receive(t, done, "Request"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Request: %v, want context.DeadlineExceeded", err)
	}
	receive(t, h.ended, "handler end")
	if !errors.Is(hctx.Err(), context.DeadlineExceeded) && !errors.Is(hctx.Err(), context.Canceled) {
		t.Fatalf("handler's context: %v", hctx.Err())
	}
}

func TestHandlerTimeoutBoundsCallerDeadline(t *testing.T) {
	h := newProbe()
	p := newPair(t, []base.ServerOption{base.OnRequest(h.handle), base.WithHandlerTimeout(50 * time.Millisecond)}, nil)
	go func() { _, _ = p.cliSess.Request(ctxT(t), []byte("q")) }() // a deadline of 10 s
	hctx := receive(t, h.started, "handler start")
	dl, ok := hctx.Deadline()
	if !ok || time.Until(dl) > 50*time.Millisecond {
		t.Fatalf("handler deadline in %v, want within the handler timeout", time.Until(dl))
	}
	receive(t, h.ended, "handler end")
}

func TestNoCallInfoUnchanged(t *testing.T) {
	h := newProbe()
	p := newPair(t, []base.ServerOption{base.OnRequest(h.handle)}, nil)
	go func() { _, _ = p.cliSess.Request(context.Background(), []byte("q")) }()
	hctx := receive(t, h.started, "handler start")
	if hctx != p.srvSess.Context() {
		t.Error("a request without call information should get the session's context")
	}
	h.release <- struct{}{}
	receive(t, h.ended, "handler end")
}

// plainProto is the native protocol without its call information.
type plainProto struct{ base.Protocol }

func TestProtocolWithoutCallInfo(t *testing.T) {
	h := newProbe()
	srv := base.NewServer(func() base.Protocol { return plainProto{native.New()} }, base.OnRequest(h.handle))
	addr := serve(t, srv)
	c := base.NewClient(func() base.Protocol { return plainProto{native.New()} })
	if err := c.Connect(ctxT(t), addr); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sess := c.Session()
	if _, err := sess.Request(base.AppendMetadata(ctxT(t), "auth", "x"), nil); !errors.Is(err, base.ErrNoCallInfo) {
		t.Fatalf("Request with metadata: %v, want ErrNoCallInfo", err)
	}
	if err := sess.SendMessage(base.AppendMetadata(ctxT(t), "auth", "x"), nil); !errors.Is(err, base.ErrNoCallInfo) {
		t.Fatalf("SendMessage with metadata: %v, want ErrNoCallInfo", err)
	}
	// A cancel is local only: the handler runs on.
	ctx, cancel := context.WithCancel(ctxT(t))
	done := make(chan error, 1)
	go func() { _, err := sess.Request(ctx, nil); done <- err }()
	hctx := receive(t, h.started, "handler start")
	cancel()
	if err := receive(t, done, "Request"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Request: %v", err)
	}
	select {
	case <-hctx.Done():
		t.Fatal("the handler was cancelled over a protocol without call information")
	case <-time.After(50 * time.Millisecond):
	}
	h.release <- struct{}{}
	receive(t, h.ended, "handler end")
}
