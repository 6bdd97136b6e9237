package netmessage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
)

// logBuffer collects a JSON log; slog's handler writes whole records.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the records logged so far.
func (b *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for line := range strings.Lines(b.buf.String()) {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

func (b *logBuffer) logger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: level}))
}

// find returns the records with message msg whose attributes include
// those of want (nested groups as maps).
func find(recs []map[string]any, msg string, want map[string]any) []map[string]any {
	var out []map[string]any
	for _, r := range recs {
		if r["msg"] == msg && matches(r, want) {
			out = append(out, r)
		}
	}
	return out
}

func matches(r, want map[string]any) bool {
	for k, w := range want {
		if wm, ok := w.(map[string]any); ok {
			rm, ok := r[k].(map[string]any)
			if !ok || !matches(rm, wm) {
				return false
			}
			continue
		}
		if r[k] != w {
			return false
		}
	}
	return true
}

func TestLogger(t *testing.T) {
	var srvLog, cliLog logBuffer
	closed := make(chan base.CloseReason, 2)
	errs := make(chan error, 4)
	p := connect(t,
		[]any{
			netmessage.WithLogger(srvLog.logger(slog.LevelDebug)),
			// The logger's hooks and interceptor sit beside the user's.
			base.OnSessionClosed(func(_ *base.Session, r base.CloseReason) { closed <- r }),
			base.OnError(func(_ *base.Session, err error) { errs <- err }),
			netmessage.WithInbound(func(ctx context.Context, call netmessage.Call, v any, next netmessage.Invoker) (any, error) {
				if r, ok := v.(WeatherRequest); ok && r.City == "secret" {
					return nil, netmessage.Errorf(netmessage.CodePermissionDenied, "not for you")
				}
				return next(ctx, v)
			}),
		},
		[]any{
			base.OnDisconnected(func(_ *base.Session, r base.CloseReason) { closed <- r }),
			netmessage.WithLogger(cliLog.logger(slog.LevelDebug)),
		},
		func(srv, _ *netmessage.Mux) {
			must(t, netmessage.HandleRequest(srv, func(_ context.Context, _ *base.Session, r WeatherRequest) (WeatherResponse, error) {
				if r.City == "boom" {
					panic("kaboom")
				}
				return WeatherResponse{Forecast: "sunny"}, nil
			}))
		})
	_, err := netmessage.Request(ctx(t), p.client, WeatherRequest{City: "Bonn"})
	must(t, err)
	_, err = netmessage.Request(ctx(t), p.client, WeatherRequest{City: "secret"})
	var re *netmessage.RemoteError
	if !errors.As(err, &re) || re.Code != netmessage.CodePermissionDenied {
		t.Fatalf("secret: %v", err)
	}
	if _, err := netmessage.Request(ctx(t), p.client, WeatherRequest{City: "boom"}); err == nil {
		t.Fatal("boom: no error")
	}
	recv(t, errs, "the panic's error event")
	must(t, p.client.Disconnect(ctx(t)))
	for range 2 {
		if r := recv(t, closed, "closed hooks"); r != base.ReasonGraceful {
			t.Fatalf("closed: %s", r)
		}
	}

	srv := srvLog.records(t)
	sess := map[string]any{"session": float64(p.sess.ID())}
	for _, c := range []struct {
		msg  string
		want map[string]any
	}{
		{"netmessage session opened", map[string]any{"level": "INFO", "peer": sess}},
		{"netmessage call", map[string]any{"level": "DEBUG", "dir": "in", "kind": "request", "type": weatherID, "outcome": "ok", "peer": sess}},
		{"netmessage call", map[string]any{"dir": "in", "outcome": "permission denied", "error": "netmessage: remote permission denied: not for you"}},
		{"netmessage call", map[string]any{"dir": "in", "outcome": "handler panic"}},
		{"netmessage error", map[string]any{"level": "ERROR", "peer": sess}},
		{"netmessage session closed", map[string]any{"level": "INFO", "reason": "graceful shutdown", "peer": sess}},
	} {
		if len(find(srv, c.msg, c.want)) != 1 {
			t.Errorf("server log has no single %q record with %v:\n%v", c.msg, c.want, srv)
		}
	}
	for _, r := range find(srv, "netmessage call", nil) {
		if d, ok := r["duration"].(float64); !ok || d <= 0 {
			t.Errorf("call record without a duration: %v", r)
		}
	}
	cli := cliLog.records(t)
	for _, c := range []struct {
		msg  string
		want map[string]any
	}{
		{"netmessage connected", map[string]any{"level": "INFO"}},
		{"netmessage call", map[string]any{"dir": "out", "kind": "request", "type": weatherID, "outcome": "ok"}},
		{"netmessage call", map[string]any{"dir": "out", "outcome": "permission denied"}},
		{"netmessage call", map[string]any{"dir": "out", "outcome": "handler panic"}},
		{"netmessage disconnected", map[string]any{"reason": "graceful shutdown"}},
	} {
		if len(find(cli, c.msg, c.want)) != 1 {
			t.Errorf("client log has no single %q record with %v:\n%v", c.msg, c.want, cli)
		}
	}
	if t.Failed() {
		return
	}
	// The client's peer is its server's address.
	r := find(cli, "netmessage call", map[string]any{"outcome": "ok"})[0]
	if peer, _ := r["peer"].(map[string]any); peer["addr"] != p.sess.LocalAddr().String() {
		t.Errorf("client call record's peer %v, want %s", r["peer"], p.sess.LocalAddr())
	}
}

// TestLoggerLevels checks that an info logger logs no calls.
func TestLoggerLevels(t *testing.T) {
	var srvLog logBuffer
	p := connect(t,
		[]any{netmessage.WithLogger(srvLog.logger(slog.LevelInfo))}, nil,
		func(srv, _ *netmessage.Mux) {
			must(t, netmessage.HandleRequest(srv, func(context.Context, *base.Session, Ping) (PingResponse, error) {
				return PingResponse{}, nil
			}))
		})
	_, err := netmessage.Request(ctx(t), p.client, Ping{})
	must(t, err)
	// Unhandled messages are error events without an OnUnhandled hook.
	must(t, netmessage.Send(ctx(t), p.client, ChatMessage{Text: "x"}))
	deadline := time.Now().Add(waitTime)
	for len(find(srvLog.records(t), "netmessage error", nil)) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	recs := srvLog.records(t)
	if n := len(find(recs, "netmessage call", nil)); n != 0 {
		t.Errorf("%d call records at info level", n)
	}
	if len(find(recs, "netmessage session opened", nil)) != 1 {
		t.Errorf("no session record: %v", recs)
	}
	errRecs := find(recs, "netmessage error", map[string]any{"level": "ERROR"})
	if len(errRecs) != 1 || !strings.Contains(errRecs[0]["error"].(string), "no handler") {
		t.Errorf("error records %v", errRecs)
	}
}

// TestLoggerPeerWithoutConnection: a Send or Request on a client that never
// connected names no session either, and logs its peer as not connected,
// not as a broadcast; a Broadcast still logs its peer as broadcast.
func TestLoggerPeerWithoutConnection(t *testing.T) {
	var cliLog, srvLog logBuffer
	_, client := typedClient(t, netmessage.WithLogger(cliLog.logger(slog.LevelDebug)))
	if err := netmessage.Send(ctx(t), client, ChatMessage{Text: "x"}); !errors.Is(err, base.ErrNotConnected) {
		t.Fatalf("Send: %v, want ErrNotConnected", err)
	}
	if _, err := netmessage.Request(ctx(t), client, Ping{}); !errors.Is(err, base.ErrNotConnected) {
		t.Fatalf("Request: %v, want ErrNotConnected", err)
	}
	_, srv := typedServer(t, netmessage.WithLogger(srvLog.logger(slog.LevelDebug)))
	must(t, netmessage.Broadcast(ctx(t), srv, ChatMessage{Text: "x"}))

	for _, kind := range []string{"message", "request"} {
		recs := find(cliLog.records(t), "netmessage call", map[string]any{"dir": "out", "kind": kind})
		if len(recs) != 1 || recs[0]["peer"] != "not connected" {
			t.Errorf("%s on a client that never connected logged %v, want one record with peer \"not connected\"", kind, recs)
		}
	}
	recs := find(srvLog.records(t), "netmessage call", map[string]any{"dir": "out", "kind": "message"})
	if len(recs) != 1 || recs[0]["peer"] != "broadcast" {
		t.Errorf("Broadcast logged %v, want one record with peer \"broadcast\"", recs)
	}
}

// TestLoggerInboundOutcomeIsCallersCode: the record of a received request
// whose handler failed without a code names the code its caller gets,
// handler error (as the caller's own record does), not error, which
// stands for a local failure.
func TestLoggerInboundOutcomeIsCallersCode(t *testing.T) {
	var srvLog, cliLog logBuffer
	p := connect(t,
		[]any{netmessage.WithLogger(srvLog.logger(slog.LevelDebug))},
		[]any{netmessage.WithLogger(cliLog.logger(slog.LevelDebug))},
		func(srv, _ *netmessage.Mux) {
			must(t, netmessage.HandleRequest(srv, func(context.Context, *base.Session, Ping) (PingResponse, error) {
				return PingResponse{}, errors.New("plain")
			}))
		})
	_, err := netmessage.Request(ctx(t), p.client, Ping{})
	var re *netmessage.RemoteError
	if !errors.As(err, &re) || re.Code != netmessage.CodeHandler {
		t.Fatalf("Request: %v, want CodeHandler", err)
	}
	if recs := find(cliLog.records(t), "netmessage call", map[string]any{"dir": "out"}); len(recs) != 1 || recs[0]["outcome"] != "handler error" {
		t.Errorf("caller's records %v, want one with outcome \"handler error\"", recs)
	}
	// The callee logs once its interceptors returned, before the caller
	// has its answer: the record is there.
	if recs := find(srvLog.records(t), "netmessage call", map[string]any{"dir": "in"}); len(recs) != 1 || recs[0]["outcome"] != "handler error" {
		t.Errorf("callee's records %v, want one with outcome \"handler error\"", recs)
	}
}
