package nmotel_test

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	nmotel "github.com/netmessage-go/netmessage/otel"
)

// A panic in an interceptor given after MuxOption passes through the
// Telemetry's: the call still leaves calls.active, gets its duration
// and ends its span with an error (on the server, HANDLER_PANIC, the code
// netmessage answers it with).
func TestInterceptorPanic(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer tp.Shutdown(context.Background())
	srvMetrics, cliMetrics := sdkmetric.NewManualReader(), sdkmetric.NewManualReader()
	srvTel := nmotel.New(nmotel.WithTracerProvider(tp), nmotel.WithPropagators(propagators),
		nmotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(srvMetrics))))
	cliTel := nmotel.New(nmotel.WithTracerProvider(tp), nmotel.WithPropagators(propagators),
		nmotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(cliMetrics))))

	smux, err := netmessage.NewMux(ids(), srvTel.MuxOption(),
		netmessage.WithInbound(func(context.Context, netmessage.Call, any, netmessage.Invoker) (any, error) {
			panic("inbound kaboom")
		}))
	must(t, err)
	must(t, netmessage.HandleRequest(smux, func(ctx context.Context, s *base.Session, r Echo) (EchoReply, error) {
		return EchoReply{Text: r.Text}, nil
	}))
	cmux, err := netmessage.NewMux(ids(), cliTel.MuxOption(),
		netmessage.WithOutbound(func(ctx context.Context, c netmessage.Call, v any, next netmessage.Invoker) (any, error) {
			if _, ok := v.(Notice); ok {
				panic("outbound kaboom")
			}
			return next(ctx, v)
		}))
	must(t, err)
	srv := netmessage.NewServer(smux, base.OnError(func(*base.Session, error) {}))
	addr := serve(t, srv)
	client := netmessage.NewClient(cmux)
	defer client.Close()
	must(t, client.Connect(ctx(t), addr))

	_, err = netmessage.Request(ctx(t), client, Echo{Text: "hi"})
	var re *netmessage.RemoteError
	if !errors.As(err, &re) || re.Code != netmessage.CodePanic {
		t.Fatalf("request: %v", err)
	}
	func() {
		defer func() {
			if v := recover(); v != "outbound kaboom" {
				t.Errorf("send recovered %v", v)
			}
		}()
		netmessage.Send(ctx(t), client, Notice{Text: "n"})
	}()

	e := &env{spans: spans}
	s := e.span(t, echoID, trace.SpanKindServer)
	wantStatus(t, s, codes.Error, "HANDLER_PANIC", "HANDLER_PANIC")
	if c := e.span(t, noticeID, trace.SpanKindClient); c.Status.Code != codes.Error {
		t.Errorf("client span of the panicking send: status %v", c.Status.Code)
	}

	panicked := attribute.String("rpc.response.status_code", "HANDLER_PANIC")
	srvMs := eventually(t, srvMetrics, func(ms map[string]metricdata.Aggregation) bool {
		n, _ := histogram[float64](t, ms, "rpc.server.call.duration", panicked)
		return n == 1
	})
	if n, _ := histogram[float64](t, srvMs, "rpc.server.call.duration", panicked); n != 1 {
		t.Errorf("server durations of the panicking call: %d, want 1", n)
	}
	if got := sum(t, srvMs, "netmessage.server.calls.active"); got != 0 {
		t.Errorf("netmessage.server.calls.active = %d after the call", got)
	}
	cliMs := collect(t, cliMetrics)
	if got := sum(t, cliMs, "netmessage.client.calls.active"); got != 0 {
		t.Errorf("netmessage.client.calls.active = %d after the calls", got)
	}
	if n, _ := histogram[float64](t, cliMs, "rpc.client.call.duration", attribute.String("rpc.method", noticeID)); n != 1 {
		t.Errorf("client durations of the panicking send: %d, want 1", n)
	}
}
