package bench

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs every contender in every workload briefly, and an idle
// measurement, and checks that each produced sane results: calls
// completed without errors, latencies and rates that make sense, and a
// report and chart that name every contender.
func TestSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	suite := Suite{
		Contenders: Contenders(),
		Specs:      Specs(),
		Timing:     Timing{Warmup: 10 * time.Millisecond, Duration: 40 * time.Millisecond},
		Rounds:     1,
	}
	results := suite.Run(ctx)
	if want := len(suite.Contenders) * len(suite.Specs); len(results) != want {
		t.Fatalf("%d results, want %d", len(results), want)
	}
	for _, r := range results {
		name := r.Contender + " " + r.Spec.String()
		switch {
		case r.Err != nil:
			t.Errorf("%s: %v", name, r.Err)
		case r.Skipped:
			if r.Contender != "net/rpc" || r.Spec.Kind != OneWay {
				t.Errorf("%s: skipped", name)
			}
		case r.Completed <= 0 || r.Ops < 0 || r.Elapsed <= 0:
			// Under the race detector a slow contender may complete no
			// call within the short measured time, but some in all.
			t.Errorf("%s: %d operations (%d measured in %v)", name, r.Completed, r.Ops, r.Elapsed)
		case r.Allocs < 0:
			t.Errorf("%s: %v allocations per operation", name, r.Allocs)
		case r.Spec.Kind == Latency && (r.P50 <= 0 || r.P99 < r.P50):
			t.Errorf("%s: p50 %v, p99 %v", name, r.P50, r.P99)
		}
	}

	idle := Idle(ctx, Typed("msgpack"), 20, 100*time.Millisecond, 200*time.Millisecond)
	if idle.Err != nil {
		t.Errorf("idle: %v", idle.Err)
	} else {
		// Each end of a session has its reader, writer and dispatcher.
		for side, s := range map[string]IdleSide{"server": idle.Server, "client": idle.Client} {
			if s.Goroutines < 2.5 || s.Goroutines > 4 {
				t.Errorf("idle %s: %.2f goroutines per session, want about 3", side, s.Goroutines)
			}
			if s.CPU < 0 {
				t.Errorf("idle %s: CPU %v", side, s.CPU)
			}
		}
	}

	var report strings.Builder
	Report(&report, results, []IdleResult{idle})
	for _, c := range suite.Contenders {
		if !strings.Contains(report.String(), "| "+c.Name+" |") {
			t.Errorf("report has no row for %s", c.Name)
		}
	}
	if !strings.Contains(report.String(), "### Targets") {
		t.Error("report has no targets")
	}

	var svg strings.Builder
	if err := Chart(&svg, results); err != nil {
		t.Fatal(err)
	}
	lines := 0
	dec := xml.NewDecoder(strings.NewReader(svg.String()))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("chart is not well-formed XML: %v", err)
		}
		if el, ok := tok.(xml.StartElement); ok && el.Name.Local == "polyline" {
			lines++
		}
	}
	// A line per contender and packet size with at least two points: a
	// throughput level in which a slow contender measured no call (under
	// the race detector, in this short a run) has none.
	points := map[string]int{}
	for _, r := range results {
		for _, l := range levels {
			if r.Spec == (Spec{l.kind, r.Spec.Size, l.conns, l.callers}) && r.Err == nil && !r.Skipped && r.Ops > 0 {
				points[r.Contender+" "+sizeWords(r.Spec.Size)]++
			}
		}
	}
	want := 0
	for _, n := range points {
		if n > 1 {
			want++
		}
	}
	if want < len(suite.Contenders) || lines != want {
		t.Errorf("chart has %d lines, want %d (of at most %d)", lines, want, 2*len(suite.Contenders))
	}
}
