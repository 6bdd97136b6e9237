package nmotel_test

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
)

// collect returns the metrics of r by name.
func collect(t *testing.T, r *sdkmetric.ManualReader) map[string]metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	must(t, r.Collect(context.Background(), &rm))
	out := make(map[string]metricdata.Aggregation)
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m.Data
		}
	}
	return out
}

// matches reports whether set has every attribute of want.
func matches(set attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		v, ok := set.Value(kv.Key)
		if !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// histogram returns the count and sum of the data points of the
// histogram name that have the attributes want.
func histogram[N int64 | float64](t *testing.T, ms map[string]metricdata.Aggregation, name string, want ...attribute.KeyValue) (count uint64, sum N) {
	t.Helper()
	h, ok := ms[name].(metricdata.Histogram[N])
	if !ok {
		t.Fatalf("%s: %T, not a histogram", name, ms[name])
	}
	for _, dp := range h.DataPoints {
		if matches(dp.Attributes, want) {
			count += dp.Count
			sum += dp.Sum
		}
	}
	return count, sum
}

// sum returns the total of the data points of the sum name that have the
// attributes want (0 for a metric not recorded yet).
func sum(t *testing.T, ms map[string]metricdata.Aggregation, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	if ms[name] == nil {
		return 0
	}
	s, ok := ms[name].(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s: %T, not an int64 sum", name, ms[name])
	}
	var n int64
	for _, dp := range s.DataPoints {
		if matches(dp.Attributes, want) {
			n += dp.Value
		}
	}
	return n
}

// eventually collects r's metrics until done holds for them, for up to
// 5 s, and returns the last ones.
func eventually(t *testing.T, r *sdkmetric.ManualReader, done func(map[string]metricdata.Aggregation) bool) map[string]metricdata.Aggregation {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ms := collect(t, r)
		if done(ms) || time.Now().After(deadline) {
			return ms
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, sdktrace.AlwaysSample())
	const echoes, fails, notices = 5, 2, 3
	begin := time.Now()
	for range echoes {
		if _, err := netmessage.Request(ctx(t), e.client, Echo{Text: "hello"}); err != nil {
			t.Fatal(err)
		}
	}
	for range fails {
		if _, err := netmessage.Request(ctx(t), e.client, Fail{}); err == nil {
			t.Fatal("Fail succeeded")
		}
	}
	for range notices {
		must(t, netmessage.Send(ctx(t), e.client, Notice{Text: "n"}))
	}
	for range notices {
		<-e.notices
	}
	wall := time.Since(begin).Seconds()

	// The client counts its session open in its connected hook, which
	// runs on the session's dispatcher and may not have run yet.
	cli := eventually(t, e.cliMetrics, func(ms map[string]metricdata.Aggregation) bool {
		return sum(t, ms, "netmessage.sessions.open", attribute.String("netmessage.end", "client")) == 1
	})
	method := func(id string) attribute.KeyValue { return attribute.String("rpc.method", id) }
	ok := attribute.String("rpc.response.status_code", "OK")
	denied := attribute.String("rpc.response.status_code", "PERMISSION_DENIED")
	system := attribute.String("rpc.system.name", "netmessage")

	n, d := histogram[float64](t, cli, "rpc.client.call.duration", system, method(echoID), ok, attribute.String("netmessage.kind", "request"))
	if n != echoes || d <= 0 || d > wall {
		t.Errorf("client echo durations: %d, sum %vs (wall %vs)", n, d, wall)
	}
	if n, _ := histogram[float64](t, cli, "rpc.client.call.duration", method(failID), denied, attribute.String("error.type", "PERMISSION_DENIED")); n != fails {
		t.Errorf("client fail durations: %d, want %d", n, fails)
	}
	if n, _ := histogram[float64](t, cli, "rpc.client.call.duration", method(noticeID), ok, attribute.String("netmessage.kind", "message")); n != notices {
		t.Errorf("client notice durations: %d, want %d", n, notices)
	}
	if n, _ := histogram[float64](t, cli, "rpc.client.call.duration"); n != echoes+fails+notices {
		t.Errorf("client durations: %d, want %d", n, echoes+fails+notices)
	}

	// The server's handlers may still be returning from the last
	// message: wait for its duration.
	srv := eventually(t, e.srvMetrics, func(ms map[string]metricdata.Aggregation) bool {
		n, _ := histogram[float64](t, ms, "rpc.server.call.duration", method(noticeID))
		return n == notices
	})
	n, d = histogram[float64](t, srv, "rpc.server.call.duration", system, method(echoID), ok)
	if n != echoes || d <= 0 || d > wall {
		t.Errorf("server echo durations: %d, sum %vs (wall %vs)", n, d, wall)
	}
	if n, _ := histogram[float64](t, srv, "rpc.server.call.duration", method(failID), denied); n != fails {
		t.Errorf("server fail durations: %d, want %d", n, fails)
	}
	if n, _ := histogram[float64](t, srv, "rpc.server.call.duration", method(noticeID), ok); n != notices {
		t.Errorf("server notice durations: %d, want %d", n, notices)
	}
	for _, ms := range []map[string]metricdata.Aggregation{cli, srv} {
		for _, name := range []string{"netmessage.client.calls.active", "netmessage.server.calls.active"} {
			if got := sum(t, ms, name); got != 0 {
				t.Errorf("%s = %d after the calls", name, got)
			}
		}
	}

	// Bodies: the client encodes each request and message and decodes
	// each successful response; the server the other way round.
	marshal := attribute.String("netmessage.serializer.operation", "marshal")
	unmarshal := attribute.String("netmessage.serializer.operation", "unmarshal")
	cm, cmSum := histogram[int64](t, cli, "netmessage.serializer.body.size", marshal)
	cu, cuSum := histogram[int64](t, cli, "netmessage.serializer.body.size", unmarshal)
	sm, smSum := histogram[int64](t, srv, "netmessage.serializer.body.size", marshal)
	su, suSum := histogram[int64](t, srv, "netmessage.serializer.body.size", unmarshal)
	if cm != echoes+fails+notices || su != cm || cmSum != suSum || cmSum <= 0 {
		t.Errorf("request bodies: client encoded %d (%d B), server decoded %d (%d B)", cm, cmSum, su, suSum)
	}
	if sm != echoes || cu != sm || smSum != cuSum || smSum <= 0 {
		t.Errorf("response bodies: server encoded %d (%d B), client decoded %d (%d B)", sm, smSum, cu, cuSum)
	}

	// Sessions: one each end, then closed.
	if got := sum(t, srv, "netmessage.sessions.open", attribute.String("netmessage.end", "server")); got != 1 {
		t.Errorf("server sessions open: %d", got)
	}
	if got := sum(t, cli, "netmessage.sessions.open", attribute.String("netmessage.end", "client")); got != 1 {
		t.Errorf("client sessions open: %d", got)
	}
	must(t, e.client.Disconnect(ctx(t)))
	<-e.sess.Done()
	// The closed hooks run after the close, on the sessions' dispatchers.
	cli = eventually(t, e.cliMetrics, func(ms map[string]metricdata.Aggregation) bool {
		return sum(t, ms, "netmessage.sessions.closed") == 1
	})
	if got := sum(t, cli, "netmessage.sessions.open"); got != 0 {
		t.Errorf("client sessions open after the disconnect: %d", got)
	}
	if got := sum(t, cli, "netmessage.sessions.closed", attribute.String("netmessage.close_reason", "graceful_shutdown")); got != 1 {
		t.Errorf("client sessions closed gracefully: %d", got)
	}
	srv = eventually(t, e.srvMetrics, func(ms map[string]metricdata.Aggregation) bool {
		return sum(t, ms, "netmessage.sessions.closed") == 1
	})
	if got := sum(t, srv, "netmessage.sessions.closed", attribute.String("netmessage.end", "server"), attribute.String("netmessage.close_reason", "graceful_shutdown")); got != 1 {
		t.Errorf("server sessions closed gracefully: %d", got)
	}
	if got := sum(t, srv, "netmessage.sessions.open"); got != 0 {
		t.Errorf("server sessions open after the disconnect: %d", got)
	}
}

func TestReconnectMetrics(t *testing.T) {
	e := newEnv(t, sdktrace.NeverSample(), base.WithReconnect(base.Backoff{Initial: 10 * time.Millisecond, Jitter: -1}))
	first := e.client.Session()
	must(t, e.sess.Disconnect(ctx(t)))
	<-first.Done()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s := e.client.Session()
		if s != first && s != nil && s.Err() == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the client did not reconnect")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cli := eventually(t, e.cliMetrics, func(ms map[string]metricdata.Aggregation) bool {
		return sum(t, ms, "netmessage.sessions.closed") == 1 && sum(t, ms, "netmessage.sessions.open") == 1
	})
	if got := sum(t, cli, "netmessage.client.reconnect.attempts"); got != 1 {
		t.Errorf("reconnect attempts: %d, want 1", got)
	}
	if got := sum(t, cli, "netmessage.sessions.open"); got != 1 {
		t.Errorf("client sessions open: %d, want 1", got)
	}
	// The server closed the session with a graceful disconnect.
	if got := sum(t, cli, "netmessage.sessions.closed", attribute.String("netmessage.close_reason", "graceful_shutdown")); got != 1 {
		t.Errorf("client sessions closed gracefully: %d, want 1 (%+v)", got, cli["netmessage.sessions.closed"])
	}
}
