package nmotel_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/netmessage/dotnet"
	nmotel "github.com/netmessage-go/netmessage/otel"
	"github.com/netmessage-go/netmessage/serializers/dotnetxml"
	"github.com/netmessage-go/netmessage/serializers/json"
	"github.com/netmessage-go/netmessage/serializers/msgpack"
)

// plain has a Serializer's methods and no optional one.
type plain struct{ s netmessage.Serializer }

func (p plain) Marshal(v any) ([]byte, error)      { return p.s.Marshal(v) }
func (p plain) Unmarshal(data []byte, v any) error { return p.s.Unmarshal(data, v) }
func (p plain) Name() string                       { return p.s.Name() }

// appending has MarshalAppend and no DecodeBound.
type appending struct{ plain }

func (a appending) MarshalAppend(dst []byte, v any) ([]byte, error) {
	return a.s.(netmessage.MarshalAppender).MarshalAppend(dst, v)
}

func TestSerializerKeepsMethods(t *testing.T) {
	tel := nmotel.New()
	for _, tc := range []struct {
		name            string
		s               netmessage.Serializer
		bound, appender bool
	}{
		{"msgpack", msgpack.New(), true, true},
		{"json", json.New(), true, false},
		{"plain", plain{msgpack.New()}, false, false},
		{"appending", appending{plain{msgpack.New()}}, false, true},
	} {
		w := tel.Serializer(tc.s)
		_, bound := w.(netmessage.DecodeBounder)
		_, appender := w.(netmessage.MarshalAppender)
		if bound != tc.bound || appender != tc.appender {
			t.Errorf("%s: DecodeBounder %v, MarshalAppender %v; want %v, %v", tc.name, bound, appender, tc.bound, tc.appender)
		}
		if w.Name() != tc.s.Name() {
			t.Errorf("%s: name %q", tc.name, w.Name())
		}
		b, err := w.Marshal(EchoReply{Text: "x"})
		must(t, err)
		var r EchoReply
		must(t, w.Unmarshal(b, &r))
		if r.Text != "x" {
			t.Errorf("%s: round trip gave %q", tc.name, r.Text)
		}
		if a, ok := w.(netmessage.MarshalAppender); ok {
			prefix := []byte("pre")
			out, err := a.MarshalAppend(prefix, EchoReply{Text: "x"})
			must(t, err)
			if string(out[:3]) != "pre" || string(out[3:]) != string(b) {
				t.Errorf("%s: MarshalAppend gave %q", tc.name, out)
			}
		}
	}
}

// Over a protocol without call information (the .NET compatibility
// profile) the calls still work and get their spans; the trace context
// does not travel.
func TestWithoutCallInfo(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer tp.Shutdown(context.Background())
	tel := nmotel.New(nmotel.WithTracerProvider(tp), nmotel.WithPropagators(propagators))
	newMux := func() *netmessage.Mux {
		m, err := netmessage.NewMux(dotnet.Compat(dotnet.Namespace("Test", Echo{}, EchoReply{})), tel.MuxOption())
		must(t, err)
		return m
	}
	smux := newMux()
	must(t, netmessage.HandleRequest(smux, func(ctx context.Context, s *base.Session, r Echo) (EchoReply, error) {
		return EchoReply{Text: r.Text}, nil
	}))
	srv := netmessage.NewServer(smux)
	addr := serve(t, srv)
	client := netmessage.NewClient(newMux())
	defer client.Close()
	must(t, client.Connect(ctx(t), addr))

	resp, err := netmessage.Request(ctx(t), client, Echo{Text: "hi"})
	must(t, err)
	if resp.Text != "hi" {
		t.Fatalf("resp %q", resp.Text)
	}
	e := &env{spans: spans}
	c := e.span(t, "Test.Echo", trace.SpanKindClient)
	s := e.span(t, "Test.Echo", trace.SpanKindServer)
	wantStatus(t, c, codes.Unset, "OK", "")
	if s.Parent.IsValid() || s.SpanContext.TraceID() == c.SpanContext.TraceID() {
		t.Errorf("server span in the client's trace without call information")
	}
}

// Over a protocol without call information, a call is encoded once, so
// its body is counted once, and a Request or Send goes through the
// interceptors after MuxOption once, as without telemetry.
func TestWithoutCallInfoOnce(t *testing.T) {
	type end struct {
		metrics *sdkmetric.ManualReader
		mux     *netmessage.Mux
		calls   atomic.Int32 // calls the interceptor after MuxOption saw
	}
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	newEnd := func() *end {
		e := &end{metrics: sdkmetric.NewManualReader()}
		tel := nmotel.New(nmotel.WithTracerProvider(tp), nmotel.WithPropagators(propagators),
			nmotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(e.metrics))))
		count := func(ctx context.Context, call netmessage.Call, v any, next netmessage.Invoker) (any, error) {
			e.calls.Add(1)
			return next(ctx, v)
		}
		m, err := netmessage.NewMux(dotnet.Compat(dotnet.Namespace("Test", Echo{}, EchoReply{}, Notice{})),
			netmessage.WithSerializer(tel.Serializer(dotnetxml.New())),
			tel.MuxOption(), netmessage.WithOutbound(count))
		must(t, err)
		e.mux = m
		return e
	}
	srvEnd, cliEnd := newEnd(), newEnd()
	notices := make(chan string, 2)
	must(t, netmessage.HandleRequest(srvEnd.mux, func(ctx context.Context, s *base.Session, r Echo) (EchoReply, error) {
		return EchoReply{Text: r.Text}, nil
	}))
	must(t, netmessage.HandleMessage(srvEnd.mux, func(ctx context.Context, s *base.Session, n Notice) { notices <- n.Text }))
	must(t, netmessage.HandleMessage(cliEnd.mux, func(ctx context.Context, s *base.Session, n Notice) { notices <- n.Text }))
	opened := make(chan *base.Session, 1)
	srv := netmessage.NewServer(srvEnd.mux, base.OnSessionOpened(func(s *base.Session) { opened <- s }))
	addr := serve(t, srv)
	client := netmessage.NewClient(cliEnd.mux)
	defer client.Close()
	must(t, client.Connect(ctx(t), addr))
	<-opened

	_, err := netmessage.Request(ctx(t), client, Echo{Text: "hi"})
	must(t, err)
	must(t, netmessage.Send(ctx(t), client, Notice{Text: "up"}))
	must(t, netmessage.Broadcast(ctx(t), srv, Notice{Text: "down"}))
	for range 2 {
		select {
		case <-notices:
		case <-time.After(5 * time.Second):
			t.Fatal("a notice did not arrive")
		}
	}

	marshal := nmotel.OperationKey.String("marshal")
	// The client encoded the request and the message; the server, the
	// response and the broadcast.
	for name, e := range map[string]*end{"client": cliEnd, "server": srvEnd} {
		if n, _ := histogram[int64](t, collect(t, e.metrics), nmotel.BodySizeName, marshal); n != 2 {
			t.Errorf("%s: %d bodies encoded, want 2", name, n)
		}
	}
	if n := cliEnd.calls.Load(); n != 2 {
		t.Errorf("client: the interceptor after MuxOption saw %d calls, want 2", n)
	}
}
