package nmotel_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	nmotel "github.com/netmessage-go/netmessage/otel"
	"github.com/netmessage-go/netmessage/serializers/msgpack"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The packets of the tests.
type (
	Echo struct {
		netmessage.Returns[EchoReply]
		Text string
	}
	EchoReply struct{ Text string }
	// Outer makes the server call the client (Inner) before it answers.
	Outer struct {
		netmessage.Returns[EchoReply]
	}
	Inner struct {
		netmessage.Returns[EchoReply]
	}
	// Fail fails with CodePermissionDenied.
	Fail struct {
		netmessage.Returns[EchoReply]
	}
	// Slow waits for its context to end and returns its error.
	Slow struct {
		netmessage.Returns[EchoReply]
	}
	Notice struct{ Text string }
)

const (
	echoID   = "test.Echo"
	outerID  = "test.Outer"
	innerID  = "test.Inner"
	failID   = "test.Fail"
	slowID   = "test.Slow"
	noticeID = "test.Notice"
)

func ids() netmessage.Option {
	return netmessage.Combine(
		netmessage.WithTypeID[Echo](echoID),
		netmessage.WithTypeID[EchoReply]("test.EchoReply"),
		netmessage.WithTypeID[Outer](outerID),
		netmessage.WithTypeID[Inner](innerID),
		netmessage.WithTypeID[Fail](failID),
		netmessage.WithTypeID[Slow](slowID),
		netmessage.WithTypeID[Notice](noticeID),
	)
}

var propagators = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// env is a server and a client over loopback TCP, each instrumented with
// its own Telemetry and metric reader; both record spans to one exporter.
type env struct {
	spans                   *tracetest.InMemoryExporter
	tp                      *sdktrace.TracerProvider
	srvMetrics, cliMetrics  *sdkmetric.ManualReader
	srv                     *base.Server
	client                  *base.Client
	sess                    *base.Session // the server's session of the client
	started                 chan struct{} // a Slow handler started
	notices                 chan string   // the server's Notice handler got one
	innerBaggage            chan string   // what the client's Inner handler found in baggage
	serverSpanOfInnerCaller chan trace.SpanContext
}

func newEnv(t *testing.T, sampler sdktrace.Sampler, copts ...base.ClientOption) *env {
	t.Helper()
	e := &env{
		spans:                   tracetest.NewInMemoryExporter(),
		srvMetrics:              sdkmetric.NewManualReader(),
		cliMetrics:              sdkmetric.NewManualReader(),
		started:                 make(chan struct{}, 10),
		notices:                 make(chan string, 10),
		innerBaggage:            make(chan string, 10),
		serverSpanOfInnerCaller: make(chan trace.SpanContext, 10),
	}
	e.tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(e.spans), sdktrace.WithSampler(sampler))
	srvTel := nmotel.New(
		nmotel.WithTracerProvider(e.tp),
		nmotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(e.srvMetrics))),
		nmotel.WithPropagators(propagators))
	cliTel := nmotel.New(
		nmotel.WithTracerProvider(e.tp),
		nmotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(e.cliMetrics))),
		nmotel.WithPropagators(propagators))

	smux, err := netmessage.NewMux(ids(), srvTel.MuxOption(), netmessage.WithSerializer(srvTel.Serializer(msgpack.New())))
	must(t, err)
	cmux, err := netmessage.NewMux(ids(), cliTel.MuxOption(), netmessage.WithSerializer(cliTel.Serializer(msgpack.New())))
	must(t, err)

	must(t, netmessage.HandleRequest(smux, func(ctx context.Context, s *base.Session, r Echo) (EchoReply, error) {
		return EchoReply{Text: r.Text}, nil
	}))
	must(t, netmessage.HandleRequest(smux, func(ctx context.Context, s *base.Session, r Outer) (EchoReply, error) {
		e.serverSpanOfInnerCaller <- trace.SpanContextFromContext(ctx)
		return netmessage.Request(ctx, s, Inner{})
	}))
	must(t, netmessage.HandleRequest(smux, func(ctx context.Context, s *base.Session, r Fail) (EchoReply, error) {
		return EchoReply{}, netmessage.Errorf(netmessage.CodePermissionDenied, "not you")
	}))
	must(t, netmessage.HandleRequest(smux, func(ctx context.Context, s *base.Session, r Slow) (EchoReply, error) {
		e.started <- struct{}{}
		<-ctx.Done()
		return EchoReply{}, ctx.Err()
	}))
	must(t, netmessage.HandleMessage(smux, func(ctx context.Context, s *base.Session, n Notice) {
		e.notices <- n.Text
	}))
	must(t, netmessage.HandleRequest(cmux, func(ctx context.Context, s *base.Session, r Inner) (EchoReply, error) {
		e.innerBaggage <- baggage.FromContext(ctx).Member("tenant").Value()
		return EchoReply{Text: "inner"}, nil
	}))

	opened := make(chan *base.Session, 1)
	e.srv = netmessage.NewServer(smux, append(srvTel.ServerOptions(),
		base.OnSessionOpened(func(s *base.Session) {
			srvTel.SessionOpened(s) // beside a hook of one's own
			opened <- s
		}))...)
	e.client = netmessage.NewClient(cmux, append(cliTel.ClientOptions(), copts...)...)

	t.Cleanup(func() { must(t, e.tp.Shutdown(context.Background())) })
	addr := serve(t, e.srv)
	t.Cleanup(func() { e.client.Close() })
	must(t, e.client.Connect(ctx(t), addr))
	select {
	case e.sess = <-opened:
	case <-time.After(5 * time.Second):
		t.Fatal("no session opened")
	}
	return e
}

// serve serves srv on a free loopback port and returns its address; when
// the test ends, it closes srv and waits for Serve to return.
func serve(t *testing.T, srv *base.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	var wg sync.WaitGroup
	wg.Go(func() { srv.Serve(ln) })
	t.Cleanup(func() { srv.Close(); wg.Wait() })
	return ln.Addr().String()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// span waits for the ended span of kind named name and returns it.
func (e *env) span(t *testing.T, name string, kind trace.SpanKind) tracetest.SpanStub {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var found []tracetest.SpanStub
		for _, s := range e.spans.GetSpans() {
			if s.Name == name && s.SpanKind == kind {
				found = append(found, s)
			}
		}
		switch {
		case len(found) == 1:
			return found[0]
		case len(found) > 1:
			t.Fatalf("%d %s spans named %s, want 1", len(found), kind, name)
		case time.Now().After(deadline):
			t.Fatalf("no %s span named %s; have %v", kind, name, names(e.spans.GetSpans()))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.SpanKind.String()+" "+s.Name)
	}
	return out
}

func attr(s tracetest.SpanStub, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func wantAttr(t *testing.T, s tracetest.SpanStub, key attribute.Key, want any) {
	t.Helper()
	v, ok := attr(s, key)
	if !ok {
		t.Errorf("%s %s: no attribute %s", s.SpanKind, s.Name, key)
		return
	}
	if got := v.AsInterface(); got != want {
		t.Errorf("%s %s: %s = %v (%T), want %v (%T)", s.SpanKind, s.Name, key, got, got, want, want)
	}
}

func wantChild(t *testing.T, child, parent tracetest.SpanStub) {
	t.Helper()
	if child.SpanContext.TraceID() != parent.SpanContext.TraceID() ||
		child.Parent.SpanID() != parent.SpanContext.SpanID() {
		t.Errorf("%s %s is not a child of %s %s", child.SpanKind, child.Name, parent.SpanKind, parent.Name)
	}
	if !child.Parent.IsRemote() && child.SpanKind == trace.SpanKindServer {
		t.Errorf("server span %s: parent is not remote", child.Name)
	}
}

func wantStatus(t *testing.T, s tracetest.SpanStub, code codes.Code, status, errType string) {
	t.Helper()
	if s.Status.Code != code {
		t.Errorf("%s %s: status %v %q, want %v", s.SpanKind, s.Name, s.Status.Code, s.Status.Description, code)
	}
	wantAttr(t, s, "rpc.response.status_code", status)
	if errType == "" {
		if v, ok := attr(s, "error.type"); ok {
			t.Errorf("%s %s: error.type %v, want none", s.SpanKind, s.Name, v.Emit())
		}
	} else {
		wantAttr(t, s, "error.type", errType)
	}
}

func TestClientToServer(t *testing.T) {
	e := newEnv(t, sdktrace.AlwaysSample())
	resp, err := netmessage.Request(ctx(t), e.client, Echo{Text: "hi"})
	must(t, err)
	if resp.Text != "hi" {
		t.Fatalf("resp %q", resp.Text)
	}
	c := e.span(t, echoID, trace.SpanKindClient)
	s := e.span(t, echoID, trace.SpanKindServer)
	wantChild(t, s, c)
	for _, sp := range []tracetest.SpanStub{c, s} {
		wantAttr(t, sp, "rpc.system.name", "netmessage")
		wantAttr(t, sp, "rpc.method", echoID)
		wantAttr(t, sp, "netmessage.kind", "request")
		wantAttr(t, sp, "network.peer.address", "127.0.0.1")
		wantStatus(t, sp, codes.Unset, "OK", "")
	}
	wantAttr(t, c, "network.peer.port", int64(e.client.Session().RemoteAddr().(*net.TCPAddr).Port))
	wantAttr(t, s, "network.peer.port", int64(e.sess.RemoteAddr().(*net.TCPAddr).Port))
	if c.EndTime.Before(s.EndTime) {
		t.Errorf("client span ended before the server span")
	}
}

func TestMessage(t *testing.T) {
	e := newEnv(t, sdktrace.AlwaysSample())
	must(t, netmessage.Send(ctx(t), e.client, Notice{Text: "n"}))
	<-e.notices
	c := e.span(t, noticeID, trace.SpanKindClient)
	s := e.span(t, noticeID, trace.SpanKindServer)
	wantChild(t, s, c)
	wantAttr(t, c, "netmessage.kind", "message")
	wantAttr(t, s, "netmessage.kind", "message")
	wantStatus(t, s, codes.Unset, "OK", "")
}

func TestServerToClientAndNested(t *testing.T) {
	e := newEnv(t, sdktrace.AlwaysSample())
	// A call a server makes to its client.
	bctx := baggage.ContextWithBaggage(ctx(t), mustBaggage(t, "tenant=acme"))
	if _, err := netmessage.Request(bctx, e.sess, Inner{}); err != nil {
		t.Fatal(err)
	}
	if got := <-e.innerBaggage; got != "acme" {
		t.Errorf("baggage tenant %q at the client, want acme", got)
	}
	c := e.span(t, innerID, trace.SpanKindClient)
	s := e.span(t, innerID, trace.SpanKindServer)
	wantChild(t, s, c)
	e.spans.Reset()

	// A nested call: client -> server (Outer), whose handler calls the
	// client (Inner).
	if _, err := netmessage.Request(ctx(t), e.client, Outer{}); err != nil {
		t.Fatal(err)
	}
	<-e.innerBaggage
	outerC := e.span(t, outerID, trace.SpanKindClient)
	outerS := e.span(t, outerID, trace.SpanKindServer)
	innerC := e.span(t, innerID, trace.SpanKindClient)
	innerS := e.span(t, innerID, trace.SpanKindServer)
	wantChild(t, outerS, outerC)
	wantChild(t, innerC, outerS) // the handler's call: a grandchild of outerC
	wantChild(t, innerS, innerC)
	if sc := <-e.serverSpanOfInnerCaller; sc.SpanID() != outerS.SpanContext.SpanID() {
		t.Errorf("the handler's context does not hold its server span")
	}
	if innerS.SpanContext.TraceID() != outerC.SpanContext.TraceID() {
		t.Errorf("the nested call left the trace")
	}
}

func mustBaggage(t *testing.T, s string) baggage.Baggage {
	b, err := baggage.Parse(s)
	must(t, err)
	return b
}

func TestRemoteError(t *testing.T) {
	e := newEnv(t, sdktrace.AlwaysSample())
	_, err := netmessage.Request(ctx(t), e.client, Fail{})
	var re *netmessage.RemoteError
	if !errors.As(err, &re) || re.Code != netmessage.CodePermissionDenied {
		t.Fatalf("err %v", err)
	}
	c := e.span(t, failID, trace.SpanKindClient)
	s := e.span(t, failID, trace.SpanKindServer)
	wantStatus(t, c, codes.Error, "PERMISSION_DENIED", "PERMISSION_DENIED")
	wantStatus(t, s, codes.Error, "PERMISSION_DENIED", "PERMISSION_DENIED")
	if c.Status.Description != err.Error() {
		t.Errorf("client status %q, want %q", c.Status.Description, err.Error())
	}
}

func TestUnhandled(t *testing.T) {
	e := newEnv(t, sdktrace.AlwaysSample())
	// The server has no handler for Inner.
	_, err := netmessage.Request(ctx(t), e.client, Inner{})
	if !errors.Is(err, netmessage.ErrUnhandled) {
		t.Fatalf("err %v", err)
	}
	c := e.span(t, innerID, trace.SpanKindClient)
	s := e.span(t, innerID, trace.SpanKindServer)
	wantStatus(t, c, codes.Error, "UNHANDLED_REQUEST", "UNHANDLED_REQUEST")
	wantStatus(t, s, codes.Error, "UNHANDLED_REQUEST", "UNHANDLED_REQUEST")
	wantAttr(t, s, "rpc.method", "_OTHER")
	wantAttr(t, s, "rpc.method_original", innerID)
}

func TestTimeout(t *testing.T) {
	e := newEnv(t, sdktrace.AlwaysSample())
	c, cancel := context.WithTimeout(ctx(t), 100*time.Millisecond)
	defer cancel()
	_, err := netmessage.Request(c, e.client, Slow{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	cs := e.span(t, slowID, trace.SpanKindClient)
	ss := e.span(t, slowID, trace.SpanKindServer)
	wantStatus(t, cs, codes.Error, "DEADLINE_EXCEEDED", "DEADLINE_EXCEEDED")
	// The handler's context ends at the caller's deadline, which the
	// request carries, measured from its arrival; the cancel the caller
	// sends when it gives up at that deadline can arrive first, and then
	// ends it as canceled.
	if ss.Status.Code != codes.Error {
		t.Errorf("server span status %v", ss.Status)
	}
	for _, key := range []attribute.Key{"rpc.response.status_code", "error.type"} {
		if v, _ := attr(ss, key); v.AsString() != "DEADLINE_EXCEEDED" && v.AsString() != "CANCELED" {
			t.Errorf("server span %s = %q, want DEADLINE_EXCEEDED or CANCELED", key, v.AsString())
		}
	}
	// The span starts after the deadline was set, and ends once it passed.
	if dl, _ := c.Deadline(); cs.EndTime.Before(dl) || cs.EndTime.Sub(cs.StartTime) > 5*time.Second {
		t.Errorf("client span %v to %v, deadline %v", cs.StartTime, cs.EndTime, dl)
	}
}

func TestResponseTimeout(t *testing.T) {
	e := newEnv(t, sdktrace.AlwaysSample(), base.WithResponseTimeout(100*time.Millisecond))
	_, err := netmessage.Request(context.Background(), e.client, Slow{})
	if !errors.Is(err, base.ErrRequestTimeout) {
		t.Fatalf("err %v", err)
	}
	cs := e.span(t, slowID, trace.SpanKindClient)
	wantStatus(t, cs, codes.Error, "DEADLINE_EXCEEDED", "DEADLINE_EXCEEDED")
}

func TestCancel(t *testing.T) {
	e := newEnv(t, sdktrace.AlwaysSample())
	c, cancel := context.WithCancel(ctx(t))
	go func() {
		<-e.started
		cancel()
	}()
	_, err := netmessage.Request(c, e.client, Slow{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	cs := e.span(t, slowID, trace.SpanKindClient)
	ss := e.span(t, slowID, trace.SpanKindServer)
	wantStatus(t, cs, codes.Error, "CANCELED", "CANCELED")
	wantStatus(t, ss, codes.Error, "CANCELED", "CANCELED")
}

func TestNotConnected(t *testing.T) {
	e := newEnv(t, sdktrace.AlwaysSample())
	must(t, e.client.Close())
	_, err := netmessage.Request(ctx(t), e.client, Echo{})
	if !errors.Is(err, base.ErrNotConnected) {
		t.Fatalf("err %v", err)
	}
	c := e.span(t, echoID, trace.SpanKindClient)
	if c.Status.Code != codes.Error {
		t.Errorf("status %v", c.Status)
	}
	wantAttr(t, c, "error.type", "not_connected")
	if _, ok := attr(c, "rpc.response.status_code"); ok {
		t.Errorf("a status code for a call never sent")
	}
}

func TestNeverSample(t *testing.T) {
	e := newEnv(t, sdktrace.NeverSample())
	if _, err := netmessage.Request(ctx(t), e.client, Outer{}); err != nil {
		t.Fatal(err)
	}
	// The server's span is not sampled either: it follows its parent.
	if sc := <-e.serverSpanOfInnerCaller; !sc.IsValid() || sc.IsSampled() {
		t.Errorf("server span context %v: want valid and not sampled", sc)
	}
	if n := len(e.spans.GetSpans()); n != 0 {
		t.Errorf("%d spans recorded", n)
	}
}
