package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
)

// TestHeartbeatSettings checks each contender's heartbeat interval, and
// that WithHeartbeat changes it only for the contenders that have
// heartbeats.
func TestHeartbeatSettings(t *testing.T) {
	if got := receiveTimeout(base.DefaultHeartbeatInterval); got != base.DefaultReceiveTimeout {
		t.Errorf("receive timeout for base's default heartbeat: %v, want base's default %v", got, base.DefaultReceiveTimeout)
	}
	for _, c := range Contenders() {
		want := base.DefaultHeartbeatInterval
		if c.Name == "net/rpc" || c.Name == "grpc" || c.Name == "grpc+otelgrpc" {
			want = 0
		}
		if got := c.Heartbeat(); got != want {
			t.Errorf("%s: heartbeat %v, want %v", c.Name, got, want)
		}
		d := c.WithHeartbeat(10 * time.Second)
		if want != 0 {
			want = 10 * time.Second
		}
		if got := d.Heartbeat(); got != want {
			t.Errorf("%s with a 10 s heartbeat: heartbeat %v, want %v", c.Name, got, want)
		}
		if d.Name != c.Name {
			t.Errorf("%s with a 10 s heartbeat is named %s", c.Name, d.Name)
		}
		if got := d.WithHeartbeat(0).Heartbeat(); got != d.Heartbeat() {
			t.Errorf("%s: WithHeartbeat(0) changed the heartbeat from %v to %v", c.Name, d.Heartbeat(), got)
		}
	}
}

// TestIdleHeartbeat measures idle sessions whose receive timeout is far
// shorter than the default heartbeat interval: they stay open only if
// both the server and the clients in the child process use the short
// interval.
func TestIdleHeartbeat(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const interval = 100 * time.Millisecond
	for _, c := range []Contender{Floor(), Base(), Typed("msgpack")} {
		r := Idle(ctx, c.WithHeartbeat(interval), 20, time.Second, 200*time.Millisecond)
		if r.Err != nil {
			t.Errorf("%s: %v", c.Name, r.Err)
			continue
		}
		if r.Heartbeat != interval {
			t.Errorf("%s: result's heartbeat %v, want %v", c.Name, r.Heartbeat, interval)
		}
		// Each end of an open session has at least a reader and a
		// writer goroutine.
		for side, s := range map[string]IdleSide{"server": r.Server, "client": r.Client} {
			if s.Goroutines < 1.5 {
				t.Errorf("%s %s: %.2f goroutines per session: sessions closed", c.Name, side, s.Goroutines)
			}
		}
	}
}

// TestReportHeartbeat checks that the idle table names the heartbeat
// interval and that the idle CPU target is judged for the default
// heartbeats only.
func TestReportHeartbeat(t *testing.T) {
	idle := func(name string, hb time.Duration) IdleResult {
		return IdleResult{Contender: name, Sessions: 10000, Duration: 10 * time.Second, Heartbeat: hb, Server: IdleSide{CPU: 0.01}}
	}
	for _, tc := range []struct {
		idle    []IdleResult
		heading string
		met     string
		short   bool // the measured time is shorter than the interval
	}{
		{[]IdleResult{idle("floor", 2*time.Second), idle("base", 2*time.Second)}, "### Idle sessions (heartbeat every 2 s)", "| yes |", false},
		{[]IdleResult{idle("floor", 10*time.Second), idle("base", 10*time.Second)}, "### Idle sessions (heartbeat every 10 s)", "| n/a (heartbeat changed) |", false},
		{[]IdleResult{idle("base", 30*time.Second)}, "### Idle sessions (heartbeat every 30 s)", "| n/a (heartbeat changed) |", true},
		{[]IdleResult{idle("base", 500*time.Millisecond)}, "### Idle sessions (heartbeat every 500 ms)", "| n/a (heartbeat changed) |", false},
		{[]IdleResult{idle("grpc", 0)}, "### Idle sessions (no heartbeats)", "| yes |", false},
	} {
		var b strings.Builder
		Report(&b, nil, tc.idle)
		report := b.String()
		if !strings.Contains(report, tc.heading+"\n") {
			t.Errorf("report has no heading %q:\n%s", tc.heading, report)
		}
		if short := strings.Contains(report, "longer than the measured time"); short != tc.short {
			t.Errorf("%s: note on the measured time shorter than the interval: %v, want %v", tc.heading, short, tc.short)
		}
		name := tc.idle[len(tc.idle)-1].Contender + " 10000 idle sessions < 5% of a core (server)"
		var row string
		for line := range strings.Lines(report) {
			if strings.Contains(line, name) {
				row = line
			}
		}
		if !strings.HasSuffix(strings.TrimSpace(row), tc.met) {
			t.Errorf("target row %q does not end in %q", row, tc.met)
		}
	}
}
