// Package nmotel instruments NetMessage servers and clients with
// OpenTelemetry traces and metrics.
//
// It lives in a module of its own, github.com/netmessage-go/netmessage/otel,
// so that applications that do not use OpenTelemetry never download it.
// The package is named nmotel, to stay clear of go.opentelemetry.io/otel:
//
//	import nmotel "github.com/netmessage-go/netmessage/otel"
//
// A Telemetry holds the tracer, the meter's instruments and the
// propagator. Its MuxOption adds the interceptors that trace and time
// every request and message a Mux sends and receives; ServerOptions and
// ClientOptions add the session hooks that count sessions, their closes
// and a client's reconnect attempts; Serializer wraps the Mux's serializer
// to measure the size of what it encodes and decodes:
//
//	tel := nmotel.New() // the global TracerProvider, MeterProvider and propagator
//	mux, err := netmessage.NewMux(
//		tel.MuxOption(),
//		netmessage.WithSerializer(tel.Serializer(msgpack.New())),
//	)
//	srv := netmessage.NewServer(mux, tel.ServerOptions()...)
//	client := netmessage.NewClient(mux, tel.ClientOptions()...)
//
// # Traces
//
// Each Request, Send and Broadcast gets a client span, and each request
// and message received a server span, named after the type id and
// attributed after OpenTelemetry's RPC semantic conventions (rpc.system.name
// "netmessage", rpc.method the type id, network.peer.address and
// network.peer.port, rpc.response.status_code, error.type). The client span's
// context travels in the call's metadata (the keys the propagator uses:
// traceparent, tracestate and baggage for the W3C propagators), so the
// server span is its child, whichever end sends: a server calling its
// client is traced as a client calling its server. A call a handler makes
// with its context is a child of the handler's server span.
//
// Protocols that cannot carry call metadata (the .NET compatibility
// profile) get their spans too, but the trace context does not travel:
// the receiving end's spans are roots of traces of their own.
//
// # Metrics
//
// rpc.client.call.duration and rpc.server.call.duration (seconds, by
// rpc.method, netmessage.kind and outcome), netmessage.client.calls.active
// and netmessage.server.calls.active (calls in flight),
// netmessage.serializer.body.size (bytes, with Serializer),
// netmessage.sessions.open, netmessage.sessions.closed (by close reason)
// and netmessage.client.reconnect.attempts. docs/observability.md lists
// them with their attributes.
package nmotel
