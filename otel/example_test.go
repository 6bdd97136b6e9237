package nmotel_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	nmotel "github.com/netmessage-go/netmessage/otel"
	"github.com/netmessage-go/netmessage/serializers/msgpack"
)

type GreetRequest struct {
	netmessage.Returns[GreetResponse]
	Name string
}

type GreetResponse struct{ Text string }

// A server and a client traced with one TracerProvider: the client's span
// of the request is the parent of the server's.
func Example() {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer tp.Shutdown(context.Background())
	tel := nmotel.New(
		nmotel.WithTracerProvider(tp),
		nmotel.WithPropagators(propagation.TraceContext{}),
	)

	mux, err := netmessage.NewMux(
		tel.MuxOption(),
		netmessage.WithTypeID[GreetRequest]("example.Greet"),
		netmessage.WithTypeID[GreetResponse]("example.Greeting"),
	)
	if err != nil {
		log.Fatal(err)
	}
	netmessage.HandleRequest(mux, func(ctx context.Context, s *base.Session, r GreetRequest) (GreetResponse, error) {
		return GreetResponse{Text: "hello, " + r.Name}, nil
	})
	srv := netmessage.NewServer(mux, tel.ServerOptions()...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	client := netmessage.NewClient(mux, tel.ClientOptions()...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Connect(ctx, ln.Addr().String()); err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	resp, err := netmessage.Request(ctx, client, GreetRequest{Name: "Ada"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Text)

	// The server span ends before the response is sent, so both have
	// ended now.
	var client0, server0 tracetest.SpanStub
	for _, s := range spans.GetSpans() {
		fmt.Println(s.SpanKind, s.Name)
		switch s.SpanKind.String() {
		case "client":
			client0 = s
		case "server":
			server0 = s
		}
	}
	fmt.Println("server span is the client span's child:", server0.Parent.SpanID() == client0.SpanContext.SpanID())
	// Output:
	// hello, Ada
	// server example.Greet
	// client example.Greet
	// server span is the client span's child: true
}

// Hooks of one's own beside the Telemetry's: a server keeps one hook of
// each kind, so the application's hook calls the Telemetry's method.
func ExampleTelemetry_SessionOpened() {
	reader := sdkmetric.NewManualReader()
	tel := nmotel.New(nmotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	mux, err := netmessage.NewMux(tel.MuxOption())
	if err != nil {
		log.Fatal(err)
	}
	opened := make(chan struct{})
	srv := netmessage.NewServer(mux,
		base.OnSessionOpened(func(s *base.Session) {
			tel.SessionOpened(s)
			close(opened) // the application's own work
		}),
		base.OnSessionClosed(tel.SessionClosed),
	)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	client := netmessage.NewClient(mux)
	if err := client.Connect(context.Background(), ln.Addr().String()); err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	<-opened

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name == nmotel.SessionsOpenName {
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				end, _ := dp.Attributes.Value(nmotel.EndKey)
				fmt.Println(m.Name, end.AsString(), dp.Value)
			}
		}
	}
	// Output:
	// netmessage.sessions.open server 1
}

// Body sizes come from the serializer, wrapped before it goes to the Mux.
func ExampleTelemetry_Serializer() {
	tel := nmotel.New()
	mux, err := netmessage.NewMux(
		tel.MuxOption(),
		netmessage.WithSerializer(tel.Serializer(msgpack.New())),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(mux.Serializer().Name())
	_, bounded := mux.Serializer().(netmessage.DecodeBounder)
	fmt.Println("decode bound kept:", bounded)
	// Output:
	// msgpack
	// decode bound kept: true
}
