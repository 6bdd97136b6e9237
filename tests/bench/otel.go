package bench

import (
	"context"
	"errors"
	"net"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	nmotel "github.com/netmessage-go/netmessage/otel"
)

// Observed returns Typed("msgpack") with OpenTelemetry tracing and metrics
// on both ends (the otel module's MuxOption and its serializer wrapper),
// sampling every call (AlwaysSample) or none (NeverSample). Each end has
// its own TracerProvider, whose batch span processor hands the spans to
// an exporter that drops them, and its own MeterProvider, with a manual
// reader that is never read: the cost of recording, not of exporting.
func Observed(sample bool) Contender { return observed(sample, base.DefaultHeartbeatInterval) }

// observed returns Observed(sample) with heartbeats every interval.
func observed(sample bool, interval time.Duration) Contender {
	name, note := "netmessage/msgpack+otel", "netmessage/msgpack with the otel module's tracing (AlwaysSample) and metrics on both ends, spans dropped by the exporter"
	if !sample {
		name, note = name+"-nosample", "netmessage/msgpack with the otel module's tracing (NeverSample) and metrics on both ends"
	}
	ser := serializers["msgpack"]
	hb := netmessage.WithTransport(base.WithHeartbeat(interval, receiveTimeout(interval)))
	return Contender{
		Name: name,
		Note: note + heartbeatNote(interval, base.DefaultHeartbeatInterval),
		Serve: func(ln net.Listener) (Server, error) {
			p := newProviders(sample)
			tel := p.telemetry()
			srv, err := serveTyped(ln, tel.Serializer(ser), netmessage.Combine(hb, tel.MuxOption()))
			if err != nil {
				ln.Close()
				return nil, errors.Join(err, p.shutdown())
			}
			return observedServer{srv, p}, nil
		},
		Dial: func(ctx context.Context, addr string) (Client, error) {
			p := newProviders(sample)
			tel := p.telemetry()
			c, err := dialTyped(ctx, addr, tel.Serializer(ser), netmessage.Combine(hb, tel.MuxOption()))
			if err != nil {
				return nil, errors.Join(err, p.shutdown())
			}
			return observedClient{c, p}, nil
		},
		heartbeat: interval,
		withHeartbeat: func(interval time.Duration) Contender {
			return observed(sample, interval)
		},
	}
}

// GRPCObserved returns GRPC() with otelgrpc's stats handlers on both
// ends, each with its own providers as in Observed, sampling every call.
func GRPCObserved() Contender {
	return Contender{
		Name: "grpc+otelgrpc",
		Note: "grpc with otelgrpc's client and server stats handlers (AlwaysSample, metrics), spans dropped by the exporter",
		Serve: func(ln net.Listener) (Server, error) {
			p := newProviders(true)
			srv, err := serveGRPCWith(ln, grpc.StatsHandler(otelgrpc.NewServerHandler(p.otelgrpc()...)))
			if err != nil {
				return nil, errors.Join(err, p.shutdown())
			}
			return observedServer{srv, p}, nil
		},
		Dial: func(ctx context.Context, addr string) (Client, error) {
			p := newProviders(true)
			c, err := dialGRPCWith(ctx, addr, grpc.WithStatsHandler(otelgrpc.NewClientHandler(p.otelgrpc()...)))
			if err != nil {
				return nil, errors.Join(err, p.shutdown())
			}
			return observedClient{c, p}, nil
		},
	}
}

// providers are one end's OpenTelemetry SDK providers.
type providers struct {
	tp *sdktrace.TracerProvider
	mp *sdkmetric.MeterProvider
}

func newProviders(sample bool) providers {
	sampler := sdktrace.NeverSample()
	if sample {
		sampler = sdktrace.AlwaysSample()
	}
	return providers{
		tp: sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithBatcher(dropSpans{})),
		mp: sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader())),
	}
}

var propagator = propagation.TraceContext{}

func (p providers) telemetry() *nmotel.Telemetry {
	return nmotel.New(nmotel.WithTracerProvider(p.tp), nmotel.WithMeterProvider(p.mp), nmotel.WithPropagators(propagator))
}

func (p providers) otelgrpc() []otelgrpc.Option {
	return []otelgrpc.Option{
		otelgrpc.WithTracerProvider(p.tp),
		otelgrpc.WithMeterProvider(p.mp),
		otelgrpc.WithPropagators(propagator),
	}
}

func (p providers) shutdown() error {
	return errors.Join(p.tp.Shutdown(context.Background()), p.mp.Shutdown(context.Background()))
}

// dropSpans is a span exporter that drops what it gets.
type dropSpans struct{}

func (dropSpans) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (dropSpans) Shutdown(context.Context) error                             { return nil }

// observedServer and observedClient shut their providers down with them.
type observedServer struct {
	Server
	p providers
}

func (s observedServer) Close() error { return errors.Join(s.Server.Close(), s.p.shutdown()) }

type observedClient struct {
	Client
	p providers
}

func (c observedClient) Close() error { return errors.Join(c.Client.Close(), c.p.shutdown()) }
