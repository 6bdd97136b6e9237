package netmessage_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
)

// pair is a typed server and a client connected to it over loopback TCP,
// each with its own options, and the server's session of the client.
type pair struct {
	srv    *base.Server
	client *base.Client
	sess   *base.Session
}

// connect starts a server with sopts, registers handlers on its Mux and
// the client's with setup and connects a client with copts; both close
// when the test ends. The options are netmessage or base options.
func connect(t *testing.T, sopts []any, copts []any, setup func(srv, client *netmessage.Mux)) *pair {
	t.Helper()
	opened := make(chan *base.Session, 1)
	smux, srv := typedServer(t, append(sopts, base.OnSessionOpened(func(s *base.Session) { opened <- s }))...)
	cmux, client := typedClient(t, copts...)
	if setup != nil {
		setup(smux, cmux)
	}
	addr := serveOn(t, srv)
	t.Cleanup(func() { client.Close() })
	must(t, client.Connect(ctx(t), addr))
	return &pair{srv: srv, client: client, sess: recv(t, opened, "session")}
}

// recorder records lines from interceptors and handlers, in order.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.lines
	r.lines = nil
	return out
}

// named returns an interceptor that records its name around next.
func (r *recorder) named(name string) netmessage.Interceptor {
	return func(ctx context.Context, call netmessage.Call, v any, next netmessage.Invoker) (any, error) {
		r.add("%s %s %s", name, call.Kind, call.TypeID)
		resp, err := next(ctx, v)
		r.add("%s done %v", name, err)
		return resp, err
	}
}

const (
	weatherID = "github.com/netmessage-go/netmessage/netmessage_test.WeatherRequest"
	chatID    = "github.com/netmessage-go/netmessage/netmessage_test.ChatMessage"
	pingID    = "github.com/netmessage-go/netmessage/netmessage_test.Ping"
)

func TestInterceptorOrder(t *testing.T) {
	var in, out recorder
	got := make(chan ChatMessage, 1)
	p := connect(t,
		[]any{
			netmessage.WithInbound(in.named("a"), in.named("b")),
			netmessage.WithInbound(in.named("c")),
		},
		[]any{
			netmessage.WithOutbound(out.named("x")),
			netmessage.WithOutbound(out.named("y"), out.named("z")),
		},
		func(srv, _ *netmessage.Mux) {
			must(t, netmessage.HandleRequest(srv, func(_ context.Context, _ *base.Session, r WeatherRequest) (WeatherResponse, error) {
				in.add("handler %s", r.City)
				return WeatherResponse{Forecast: "sunny"}, nil
			}))
			must(t, netmessage.HandleMessage(srv, func(_ context.Context, _ *base.Session, m ChatMessage) {
				in.add("handler %s", m.Text)
				got <- m
			}))
		})
	resp, err := netmessage.Request(ctx(t), p.client, WeatherRequest{City: "Bonn"})
	if err != nil || resp.Forecast != "sunny" {
		t.Fatalf("request: %+v, %v", resp, err)
	}
	want := func(kind, id, handler string) []string {
		return []string{
			"a " + kind + " " + id, "b " + kind + " " + id, "c " + kind + " " + id,
			"handler " + handler,
			"c done <nil>", "b done <nil>", "a done <nil>",
		}
	}
	if got := in.take(); !slices.Equal(got, want("request", weatherID, "Bonn")) {
		t.Errorf("inbound request order:\n%q", got)
	}
	wantOut := func(kind, id string) []string {
		return []string{"x " + kind + " " + id, "y " + kind + " " + id, "z " + kind + " " + id, "z done <nil>", "y done <nil>", "x done <nil>"}
	}
	if got := out.take(); !slices.Equal(got, wantOut("request", weatherID)) {
		t.Errorf("outbound request order:\n%q", got)
	}
	must(t, netmessage.Send(ctx(t), p.client, ChatMessage{Text: "hi"}))
	recv(t, got, "message")
	// The handler has run; the interceptors finish right after it.
	deadline := time.Now().Add(waitTime)
	var lines []string
	for len(lines) < 7 && time.Now().Before(deadline) {
		lines = append(lines, in.take()...)
		time.Sleep(time.Millisecond)
	}
	if !slices.Equal(lines, want("message", chatID, "hi")) {
		t.Errorf("inbound message order:\n%q", lines)
	}
	if got := out.take(); !slices.Equal(got, wantOut("message", chatID)) {
		t.Errorf("outbound message order:\n%q", got)
	}
}

// TestInterceptorsOnBothEnds runs inbound and outbound interceptors on a
// server and a client, each seeing its own peer.
func TestInterceptorsOnBothEnds(t *testing.T) {
	var rec recorder
	peerOf := func(name string) netmessage.Interceptor {
		return func(ctx context.Context, call netmessage.Call, v any, next netmessage.Invoker) (any, error) {
			switch s := call.Session; {
			case s == nil:
				rec.add("%s broadcast %s", name, call.Kind)
			case s.ID() != 0: // a server's session
				rec.add("%s session %s", name, call.Kind)
			default: // a client's connection
				rec.add("%s client %s", name, call.Kind)
			}
			return next(ctx, v)
		}
	}
	got := make(chan ChatMessage, 2)
	p := connect(t,
		[]any{netmessage.WithInbound(peerOf("server in")), netmessage.WithOutbound(peerOf("server out"))},
		[]any{netmessage.WithInbound(peerOf("client in")), netmessage.WithOutbound(peerOf("client out"))},
		func(_, c *netmessage.Mux) {
			must(t, netmessage.HandleRequest(c, func(context.Context, *base.Session, Ping) (PingResponse, error) {
				return PingResponse{}, nil
			}))
			must(t, netmessage.HandleMessage(c, func(_ context.Context, _ *base.Session, m ChatMessage) { got <- m }))
		})
	_, err := netmessage.Request(ctx(t), p.sess, Ping{})
	must(t, err)
	must(t, netmessage.Send(ctx(t), p.sess, ChatMessage{Text: "one"}))
	recv(t, got, "message")
	must(t, netmessage.Broadcast(ctx(t), p.srv, ChatMessage{Text: "all"}))
	recv(t, got, "broadcast")
	want := []string{
		"server out session request", "client in client request",
		"server out session message", "client in client message",
		"server out broadcast message", "client in client message",
	}
	if got := rec.take(); !slices.Equal(got, want) {
		t.Errorf("calls:\n%q\nwant\n%q", got, want)
	}
}

func TestInboundInterceptorSeesUnhandled(t *testing.T) {
	type seen struct {
		kind base.Kind
		id   string
		v    any
	}
	calls := make(chan seen, 8)
	unhandled := make(chan string, 8)
	errs := make(chan error, 8)
	p := connect(t,
		[]any{
			netmessage.WithInbound(func(ctx context.Context, call netmessage.Call, v any, next netmessage.Invoker) (any, error) {
				calls <- seen{call.Kind, call.TypeID, v}
				if strings.HasSuffix(call.TypeID, "Named") {
					return nil, netmessage.Errorf(netmessage.CodeUnauthenticated, "who are you")
				}
				return next(ctx, v)
			}),
			netmessage.OnUnhandled(func(_ *base.Session, kind base.Kind, id string) { unhandled <- kind.String() + " " + id }),
			base.OnError(func(_ *base.Session, err error) { errs <- err }),
		}, nil, nil)

	// A request without a handler: the interceptor runs with a nil value;
	// next raises the unhandled event and fails with CodeUnhandled.
	_, err := netmessage.Request(ctx(t), p.client, Ping{})
	if !errors.Is(err, netmessage.ErrUnhandled) {
		t.Fatalf("unhandled request: %v", err)
	}
	if c := recv(t, calls, "call"); c.kind != base.KindRequest || c.id != pingID || c.v != nil {
		t.Fatalf("interceptor saw %+v", c)
	}
	if got := recv(t, unhandled, "unhandled event"); got != "request "+pingID {
		t.Fatalf("unhandled event %q", got)
	}
	// A message without a handler: the same, and no error event besides
	// the unhandled hook.
	must(t, netmessage.Send(ctx(t), p.client, ChatMessage{Text: "x"}))
	if c := recv(t, calls, "call"); c.kind != base.KindMessage || c.id != chatID || c.v != nil {
		t.Fatalf("interceptor saw %+v", c)
	}
	if got := recv(t, unhandled, "unhandled event"); got != "message "+chatID {
		t.Fatalf("unhandled event %q", got)
	}
	// Rejected before next: no unhandled event; the message's rejection
	// is an error event.
	must(t, netmessage.Send(ctx(t), p.client, Named{V: 1}))
	recv(t, calls, "call")
	var re *netmessage.RemoteError
	if err := recv(t, errs, "error event"); !errors.As(err, &re) || re.Code != netmessage.CodeUnauthenticated {
		t.Fatalf("error event %v", err)
	}
	select {
	case got := <-unhandled:
		t.Fatalf("unhandled event %q for a rejected message", got)
	case err := <-errs:
		t.Fatalf("another error event: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestInboundInterceptorSeesPanics(t *testing.T) {
	seen := make(chan error, 8)
	errs := make(chan error, 8)
	p := connect(t,
		[]any{
			netmessage.WithInbound(func(ctx context.Context, call netmessage.Call, v any, next netmessage.Invoker) (any, error) {
				resp, err := next(ctx, v)
				seen <- err
				if r, ok := v.(WeatherRequest); ok && r.City == "recode" {
					return nil, netmessage.Errorf(netmessage.CodeResourceExhausted, "recoded: %w", err)
				}
				return resp, err
			}),
			base.OnError(func(_ *base.Session, err error) { errs <- err }),
		}, nil,
		func(srv, _ *netmessage.Mux) {
			must(t, netmessage.HandleRequest(srv, func(context.Context, *base.Session, WeatherRequest) (WeatherResponse, error) {
				panic("kaboom")
			}))
			must(t, netmessage.HandleMessage(srv, func(context.Context, *base.Session, ChatMessage) {
				panic("message kaboom")
			}))
		})
	checkPanicEvent := func(want string) {
		t.Helper()
		var pe *base.PanicError
		if err := recv(t, errs, "error event"); !errors.As(err, &pe) || pe.Value != want || len(pe.Stack) == 0 {
			t.Fatalf("error event %v, want a panic %q", err, want)
		}
	}
	_, err := netmessage.Request(ctx(t), p.client, WeatherRequest{City: "Bonn"})
	var re *netmessage.RemoteError
	if !errors.As(err, &re) || re.Code != netmessage.CodePanic || re.Message != "kaboom" {
		t.Fatalf("caller got %v", err)
	}
	if err := recv(t, seen, "interceptor"); !errors.As(err, &re) || re.Code != netmessage.CodePanic {
		t.Fatalf("interceptor saw %v", err)
	}
	checkPanicEvent("kaboom")

	// An interceptor may answer a panic with another code.
	_, err = netmessage.Request(ctx(t), p.client, WeatherRequest{City: "recode"})
	if !errors.As(err, &re) || re.Code != netmessage.CodeResourceExhausted || !strings.Contains(re.Message, "recoded") {
		t.Fatalf("caller got %v", err)
	}
	recv(t, seen, "interceptor")
	checkPanicEvent("kaboom")

	// A message handler's panic: seen by the interceptor, one error event.
	must(t, netmessage.Send(ctx(t), p.client, ChatMessage{Text: "x"}))
	if err := recv(t, seen, "interceptor"); !errors.As(err, &re) || re.Code != netmessage.CodePanic {
		t.Fatalf("interceptor saw %v", err)
	}
	checkPanicEvent("message kaboom")
	select {
	case err := <-errs:
		t.Fatalf("second error event: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	// The session lives on.
	if _, err := netmessage.Request(ctx(t), p.client, Ping{}); !errors.Is(err, netmessage.ErrUnhandled) {
		t.Fatalf("after the panics: %v", err)
	}
}

// TestInterceptorPanicAnswers checks that a panicking inbound interceptor
// answers the caller as a panicking handler does.
func TestInterceptorPanicAnswers(t *testing.T) {
	errs := make(chan error, 4)
	p := connect(t,
		[]any{
			netmessage.WithInbound(func(context.Context, netmessage.Call, any, netmessage.Invoker) (any, error) {
				panic("interceptor kaboom")
			}),
			base.OnError(func(_ *base.Session, err error) { errs <- err }),
		}, nil, nil)
	_, err := netmessage.Request(ctx(t), p.client, Ping{})
	var re *netmessage.RemoteError
	if !errors.As(err, &re) || re.Code != netmessage.CodePanic || re.Message != "interceptor kaboom" {
		t.Fatalf("caller got %v", err)
	}
	var pe *base.PanicError
	if err := recv(t, errs, "error event"); !errors.As(err, &pe) {
		t.Fatalf("error event %v", err)
	}
}

func TestErrorCodesReachCaller(t *testing.T) {
	codes := []netmessage.ErrorCode{
		netmessage.CodeUnauthenticated, netmessage.CodePermissionDenied, netmessage.CodeResourceExhausted,
		netmessage.CodeCanceled, netmessage.CodeDeadlineExceeded, netmessage.CodeInvalidArgument,
		netmessage.CodeHandler, 200,
	}
	p := connect(t, nil, nil, func(srv, _ *netmessage.Mux) {
		must(t, netmessage.HandleRequest(srv, func(ctx context.Context, _ *base.Session, r WeatherRequest) (WeatherResponse, error) {
			var n int
			switch _, err := fmt.Sscanf(r.City, "code %d", &n); {
			case err == nil:
				return WeatherResponse{}, netmessage.Errorf(netmessage.ErrorCode(n), "failed with %d", n)
			case r.City == "wrapped":
				return WeatherResponse{}, fmt.Errorf("lookup: %w", netmessage.Errorf(netmessage.CodePermissionDenied, "not yours"))
			case r.City == "canceled":
				return WeatherResponse{}, fmt.Errorf("gave up: %w", context.Canceled)
			case r.City == "late":
				return WeatherResponse{}, context.DeadlineExceeded
			case r.City == "zero":
				return WeatherResponse{}, netmessage.Errorf(0, "no code")
			}
			return WeatherResponse{}, errors.New("plain")
		}))
	})
	check := func(city string, code netmessage.ErrorCode, msg string) {
		t.Helper()
		_, err := netmessage.Request(ctx(t), p.client, WeatherRequest{City: city})
		var re *netmessage.RemoteError
		if !errors.As(err, &re) || re.Code != code || re.Message != msg {
			t.Errorf("%s: got %v, want code %s, message %q", city, err, code, msg)
		}
	}
	for _, c := range codes {
		check(fmt.Sprintf("code %d", c), c, fmt.Sprintf("failed with %d", c))
	}
	check("wrapped", netmessage.CodePermissionDenied, "not yours")
	check("canceled", netmessage.CodeCanceled, "gave up: context canceled")
	check("late", netmessage.CodeDeadlineExceeded, "context deadline exceeded")
	check("zero", netmessage.CodeHandler, "no code")
	check("plain", netmessage.CodeHandler, "plain")
	if s := netmessage.ErrorCode(200).String(); s != "ErrorCode(200)" {
		t.Errorf("unknown code's name %q", s)
	}
}

func TestOutboundInterceptorRetriesAndTimes(t *testing.T) {
	var (
		mu       sync.Mutex
		attempts int
		took     []time.Duration
	)
	retry := func(ctx context.Context, call netmessage.Call, v any, next netmessage.Invoker) (any, error) {
		start := time.Now()
		defer func() {
			mu.Lock()
			took = append(took, time.Since(start))
			mu.Unlock()
		}()
		for {
			resp, err := next(ctx, v)
			var re *netmessage.RemoteError
			if !errors.As(err, &re) || re.Code != netmessage.CodeResourceExhausted {
				return resp, err
			}
		}
	}
	p := connect(t, nil, []any{netmessage.WithOutbound(retry)},
		func(srv, _ *netmessage.Mux) {
			must(t, netmessage.HandleRequest(srv, func(_ context.Context, _ *base.Session, r WeatherRequest) (WeatherResponse, error) {
				mu.Lock()
				defer mu.Unlock()
				attempts++
				if attempts < 3 {
					return WeatherResponse{}, netmessage.Errorf(netmessage.CodeResourceExhausted, "busy")
				}
				return WeatherResponse{Forecast: fmt.Sprint("after ", attempts)}, nil
			}))
		})
	resp, err := netmessage.Request(ctx(t), p.client, WeatherRequest{City: "Bonn"})
	if err != nil || resp.Forecast != "after 3" {
		t.Fatalf("request: %+v, %v", resp, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(took) != 1 || took[0] <= 0 {
		t.Fatalf("timings %v", took)
	}
}

// TestOutboundInterceptorChangesValue checks what an outbound interceptor
// may pass on and return.
func TestOutboundInterceptorChangesValue(t *testing.T) {
	p := connect(t, nil,
		[]any{netmessage.WithOutbound(func(ctx context.Context, call netmessage.Call, v any, next netmessage.Invoker) (any, error) {
			switch r := v.(type) {
			case WeatherRequest:
				if r.City == "wrong" {
					return "not a response", nil
				}
				r.City = strings.ToUpper(r.City)
				return next(ctx, r)
			case ChatMessage:
				return next(ctx, Named{V: 7}) // any message type goes
			}
			return next(ctx, v)
		})},
		func(srv, _ *netmessage.Mux) {
			must(t, netmessage.HandleRequest(srv, func(_ context.Context, _ *base.Session, r WeatherRequest) (WeatherResponse, error) {
				return WeatherResponse{Forecast: r.City}, nil
			}))
		})
	resp, err := netmessage.Request(ctx(t), p.client, WeatherRequest{City: "bonn"})
	if err != nil || resp.Forecast != "BONN" {
		t.Fatalf("request: %+v, %v", resp, err)
	}
	if _, err := netmessage.Request(ctx(t), p.client, WeatherRequest{City: "wrong"}); err == nil || !strings.Contains(err.Error(), "interceptor returned a string") {
		t.Fatalf("wrong result type: %v", err)
	}
}

// TestInboundInterceptorAnswersUnhandled checks that an inbound interceptor
// may answer a request that has no handler itself, and that a value of the
// wrong type passed to a handler fails the call.
func TestInboundInterceptorAnswersUnhandled(t *testing.T) {
	p := connect(t,
		[]any{netmessage.WithInbound(func(ctx context.Context, call netmessage.Call, v any, next netmessage.Invoker) (any, error) {
			switch call.TypeID {
			case pingID:
				return PingResponse{}, nil
			case weatherID:
				return next(ctx, Ping{})
			}
			return next(ctx, v)
		})}, nil,
		func(srv, _ *netmessage.Mux) {
			must(t, netmessage.HandleRequest(srv, func(context.Context, *base.Session, WeatherRequest) (WeatherResponse, error) {
				return WeatherResponse{}, nil
			}))
		})
	if _, err := netmessage.Request(ctx(t), p.client, Ping{}); err != nil {
		t.Fatalf("answered by the interceptor: %v", err)
	}
	_, err := netmessage.Request(ctx(t), p.client, WeatherRequest{})
	var re *netmessage.RemoteError
	if !errors.As(err, &re) || re.Code != netmessage.CodeHandler || !strings.Contains(re.Message, "interceptor passed a netmessage_test.Ping") {
		t.Fatalf("wrong value type: %v", err)
	}
}

func TestNilInterceptorRefused(t *testing.T) {
	if _, err := netmessage.NewMux(netmessage.WithInbound(nil)); err == nil {
		t.Error("NewMux accepted a nil inbound interceptor")
	}
	if _, err := netmessage.NewMux(netmessage.WithOutbound(nil)); err == nil {
		t.Error("NewMux accepted a nil outbound interceptor")
	}
	if _, err := netmessage.NewMux(netmessage.WithLogger(nil)); err == nil {
		t.Error("NewMux accepted a nil logger")
	}
	if _, err := netmessage.NewMux(nil); err == nil {
		t.Error("NewMux accepted a nil option")
	}
}
