// Command observe runs a NetMessage server and client instrumented with
// OpenTelemetry, with no collector: the spans go to an in-memory exporter
// and are printed as trees at the end, and the metrics go to a Prometheus
// exporter whose /metrics page, served on 127.0.0.1, the command scrapes
// once and prints.
//
//	go run ./otel/examples/observe
//
// The client greets the server, is refused once, sends a one-way note,
// and asks a question the server answers by asking the client in turn,
// so one trace holds a call from the server back to the client.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	nmotel "github.com/netmessage-go/netmessage/otel"
	"github.com/netmessage-go/netmessage/otel/examples/observe/packets"
	"github.com/netmessage-go/netmessage/serializers/msgpack"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run runs the demo and writes what it saw to out.
func run(ctx context.Context, out io.Writer) error {
	// Traces: an in-memory exporter, printed at the end.
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer tp.Shutdown(context.Background())

	// Metrics: a Prometheus exporter on a registry of its own, served on
	// a local /metrics page.
	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutTargetInfo(), otelprom.WithoutScopeInfo())
	if err != nil {
		return err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	defer mp.Shutdown(context.Background())
	metricsURL, stopMetrics, err := serveMetrics(reg)
	if err != nil {
		return err
	}
	defer stopMetrics()

	// One Telemetry for both ends, as in a process that runs both.
	tel := nmotel.New(
		nmotel.WithTracerProvider(tp),
		nmotel.WithMeterProvider(mp),
		nmotel.WithPropagators(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})),
	)
	newMux := func() (*netmessage.Mux, error) {
		return netmessage.NewMux(packets.IDs(), tel.MuxOption(),
			netmessage.WithSerializer(tel.Serializer(msgpack.New())))
	}

	// The server.
	smux, err := newMux()
	if err != nil {
		return err
	}
	netmessage.HandleRequest(smux, func(ctx context.Context, s *base.Session, g packets.Greet) (packets.Greeting, error) {
		if g.Name == "" {
			return packets.Greeting{}, netmessage.Errorf(netmessage.CodeInvalidArgument, "a greeting needs a name")
		}
		return packets.Greeting{Text: "hello, " + g.Name}, nil
	})
	netmessage.HandleRequest(smux, func(ctx context.Context, s *base.Session, q packets.Question) (packets.Answer, error) {
		hint, err := netmessage.Request(ctx, s, packets.Hint{}) // a child of this handler's span
		if err != nil {
			return packets.Answer{}, err
		}
		return packets.Answer{Text: "with " + hint.Text + ": 42"}, nil
	})
	noted := make(chan string, 1)
	netmessage.HandleMessage(smux, func(ctx context.Context, s *base.Session, n packets.Note) { noted <- n.Text })
	srv := netmessage.NewServer(smux, tel.ServerOptions()...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		srv.Close()
		<-served
	}()

	// The client.
	cmux, err := newMux()
	if err != nil {
		return err
	}
	netmessage.HandleRequest(cmux, func(ctx context.Context, s *base.Session, h packets.Hint) (packets.Answer, error) {
		return packets.Answer{Text: "a hint"}, nil
	})
	client := netmessage.NewClient(cmux, tel.ClientOptions()...)
	if err := client.Connect(ctx, ln.Addr().String()); err != nil {
		return err
	}
	defer client.Close()

	for _, name := range []string{"Ada", "Grace", ""} {
		g, err := netmessage.Request(ctx, client, packets.Greet{Name: name})
		if err != nil {
			fmt.Fprintf(out, "client: greet %q: %v\n", name, err)
			continue
		}
		fmt.Fprintf(out, "client: %s\n", g.Text)
	}
	if err := netmessage.Send(ctx, client, packets.Note{Text: "see you"}); err != nil {
		return err
	}
	fmt.Fprintf(out, "server: note %q\n", <-noted)
	a, err := netmessage.Request(ctx, client, packets.Question{})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "client: answer %q\n", a.Text)
	if err := client.Disconnect(ctx); err != nil {
		return err
	}
	// The sessions' closed hooks run once the connection has closed on
	// each end.
	waitClosed(ctx, srv)

	fmt.Fprintln(out, "\n== spans")
	printSpans(out, spans.GetSpans())

	fmt.Fprintf(out, "\n== metrics (%s, the rpc_ and netmessage_ series)\n", "/metrics")
	return scrape(ctx, out, metricsURL)
}

// serveMetrics serves reg's /metrics page on a local port and returns its
// address and a function that stops it.
func serveMetrics(reg *prometheus.Registry) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		hs.Serve(ln)
	}()
	return "http://" + ln.Addr().String() + "/metrics", func() {
		hs.Close()
		<-done
	}, nil
}

// waitClosed waits until srv holds no session, or ctx ends.
func waitClosed(ctx context.Context, srv *base.Server) {
	for len(srv.Sessions()) > 0 && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
}

// scrape gets the page at url once and writes its NetMessage series to
// out, leaving out the histograms' buckets.
func scrape(ctx context.Context, out io.Writer, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	// A client of its own, whose idle connections close with it.
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New("metrics: " + resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "rpc_") && !strings.HasPrefix(line, "netmessage_") {
			continue
		}
		if strings.Contains(line, "_bucket{") {
			continue
		}
		fmt.Fprintln(out, line)
	}
	return sc.Err()
}

// printSpans writes spans as trees, each child under its parent.
func printSpans(out io.Writer, spans tracetest.SpanStubs) {
	slices.SortFunc(spans, func(a, b tracetest.SpanStub) int { return a.StartTime.Compare(b.StartTime) })
	children := make(map[trace.SpanID][]tracetest.SpanStub)
	known := make(map[trace.SpanID]bool)
	for _, s := range spans {
		known[s.SpanContext.SpanID()] = true
	}
	var roots []tracetest.SpanStub
	for _, s := range spans {
		if p := s.Parent.SpanID(); s.Parent.IsValid() && known[p] {
			children[p] = append(children[p], s)
		} else {
			roots = append(roots, s)
		}
	}
	var walk func(s tracetest.SpanStub, depth int)
	walk = func(s tracetest.SpanStub, depth int) {
		fmt.Fprintf(out, "%s%s %s [trace %s…] %s%s\n",
			strings.Repeat("  ", depth), s.SpanKind, s.Name,
			s.SpanContext.TraceID().String()[:8], s.Status.Code, describe(s.Attributes))
		for _, c := range children[s.SpanContext.SpanID()] {
			walk(c, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
}

// describe returns the outcome attributes of a span.
func describe(attrs []attribute.KeyValue) string {
	var b strings.Builder
	for _, kv := range attrs {
		switch kv.Key {
		case "rpc.response.status_code", "error.type", "network.peer.address":
			fmt.Fprintf(&b, " %s=%s", kv.Key, kv.Value.Emit())
		}
	}
	return b.String()
}
