package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/netmessage-go/netmessage/base"
)

// Concurrency levels shown in the throughput tables and the chart: the
// ping-pong run is the one-caller point.
var levels = []struct {
	kind           Kind
	conns, callers int
	label          string
}{
	{Latency, 1, 1, "1 conn × 1 caller"},
	{Throughput, 1, 16, "1 conn × 16 callers"},
	{Throughput, 1, 128, "1 conn × 128 callers"},
	{Throughput, 8, 128, "8 conns × 128 callers"},
}

// table indexes results by contender and workload.
type table struct {
	names []string // contenders in the order first seen
	by    map[string]map[Spec]Result
}

func newTable(results []Result) *table {
	t := &table{by: make(map[string]map[Spec]Result)}
	for _, r := range results {
		m := t.by[r.Contender]
		if m == nil {
			m = make(map[Spec]Result)
			t.by[r.Contender] = m
			t.names = append(t.names, r.Contender)
		}
		m[r.Spec] = r
	}
	return t
}

func (t *table) get(name string, spec Spec) (Result, bool) {
	r, ok := t.by[name][spec]
	return r, ok && r.Err == nil && !r.Skipped && r.Ops > 0
}

func (t *table) rate(name string, spec Spec) float64 {
	r, ok := t.get(name, spec)
	if !ok {
		return math.NaN()
	}
	return r.Rate()
}

// Report writes the results as markdown tables: throughput per
// concurrency level with each contender's share of the floor, a matrix of
// ratios at one connection with 128 callers, ping-pong latency, one-way
// messages, idle sessions and the project's targets.
func Report(w io.Writer, results []Result, idle []IdleResult) {
	t := newTable(results)
	for _, size := range []Size{Small, Large} {
		if !t.hasSize(size) {
			continue
		}
		fmt.Fprintf(w, "### Throughput, %s packets (calls/s; share of the floor's)\n\n", sizeWords(size))
		fmt.Fprint(w, "| contender |")
		for _, l := range levels {
			fmt.Fprintf(w, " %s |", l.label)
		}
		fmt.Fprint(w, "\n|---|")
		for range levels {
			fmt.Fprint(w, "--:|")
		}
		fmt.Fprintln(w)
		for _, name := range t.names {
			fmt.Fprintf(w, "| %s |", name)
			for _, l := range levels {
				spec := Spec{l.kind, size, l.conns, l.callers}
				fmt.Fprintf(w, " %s |", t.cell(name, spec, func(r Result) string {
					s := count(r.Rate())
					if f := t.rate("floor", spec); name != "floor" && !math.IsNaN(f) {
						s += fmt.Sprintf(" (%.0f%%)", 100*r.Rate()/f)
					}
					return s
				}))
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}

	key := Spec{Throughput, Small, 1, 128}
	if t.hasSpec(key) {
		fmt.Fprint(w, "### Spread over the rounds, small packets, 1 conn × 128 callers (calls/s)\n\n")
		fmt.Fprint(w, "| contender | median | lowest | highest |\n|---|--:|--:|--:|\n")
		for _, name := range t.names {
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", name,
				t.cell(name, key, func(r Result) string { return count(r.Rate()) }),
				t.cell(name, key, func(r Result) string { return count(r.MinRate) }),
				t.cell(name, key, func(r Result) string { return count(r.MaxRate) }))
		}
		fmt.Fprintln(w)
		fmt.Fprint(w, "### Ratios, small packets, 1 conn × 128 callers (row's calls/s ÷ column's)\n\n|  |")
		for _, name := range t.names {
			fmt.Fprintf(w, " %s |", name)
		}
		fmt.Fprint(w, "\n|---|")
		for range t.names {
			fmt.Fprint(w, "--:|")
		}
		fmt.Fprintln(w)
		for _, row := range t.names {
			fmt.Fprintf(w, "| %s |", row)
			for _, col := range t.names {
				fmt.Fprintf(w, " %s |", ratio(t.rate(row, key), t.rate(col, key)))
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}

	if t.hasKind(Latency) {
		fmt.Fprint(w, "### Ping-pong latency (1 conn, 1 call in flight)\n\n")
		fmt.Fprint(w, "| contender | p50 small | p99 small | p50 ÷ floor's | p50 16 KiB | p99 16 KiB | allocs/call small | bytes/call small |\n")
		fmt.Fprint(w, "|---|--:|--:|--:|--:|--:|--:|--:|\n")
		small, large := Spec{Latency, Small, 1, 1}, Spec{Latency, Large, 1, 1}
		floor, hasFloor := t.get("floor", small)
		for _, name := range t.names {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", name,
				t.cell(name, small, func(r Result) string { return micros(r.P50) }),
				t.cell(name, small, func(r Result) string { return micros(r.P99) }),
				t.cell(name, small, func(r Result) string {
					if !hasFloor {
						return "–"
					}
					return fmt.Sprintf("%.2f", float64(r.P50)/float64(floor.P50))
				}),
				t.cell(name, large, func(r Result) string { return micros(r.P50) }),
				t.cell(name, large, func(r Result) string { return micros(r.P99) }),
				t.cell(name, small, func(r Result) string { return fmt.Sprintf("%.1f", r.Allocs) }),
				t.cell(name, small, func(r Result) string { return count(r.AllocBytes) }),
			)
		}
		fmt.Fprintln(w, "\nAllocations count the whole process, both ends of the call together.")
		fmt.Fprintln(w)
	}

	if t.hasKind(OneWay) {
		fmt.Fprint(w, "### One-way messages (1 conn, 1 sender)\n\n")
		fmt.Fprint(w, "| contender | msgs/s small | MB/s small | msgs/s 16 KiB | MB/s 16 KiB | share of the floor's msgs/s, small | allocs/msg small |\n")
		fmt.Fprint(w, "|---|--:|--:|--:|--:|--:|--:|\n")
		small, large := Spec{OneWay, Small, 1, 1}, Spec{OneWay, Large, 1, 1}
		for _, name := range t.names {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", name,
				t.cell(name, small, func(r Result) string { return count(r.Rate()) }),
				t.cell(name, small, func(r Result) string { return fmt.Sprintf("%.0f", r.MBps()) }),
				t.cell(name, large, func(r Result) string { return count(r.Rate()) }),
				t.cell(name, large, func(r Result) string { return fmt.Sprintf("%.0f", r.MBps()) }),
				t.cell(name, small, func(r Result) string {
					return percent(r.Rate(), t.rate("floor", small))
				}),
				t.cell(name, small, func(r Result) string { return fmt.Sprintf("%.1f", r.Allocs) }),
			)
		}
		fmt.Fprintln(w, "\nMB/s counts each message as the byte contenders' payload size (the msgpack encoding of the packet).")
		fmt.Fprintln(w)
	}

	if len(idle) > 0 {
		fmt.Fprintf(w, "### Idle sessions (%s)\n\n", idleHeartbeats(idle))
		fmt.Fprint(w, "| contender | sessions | server RSS/session | server Go heap+stacks/session | server goroutines/session | server CPU | client RSS/session | client CPU |\n")
		fmt.Fprint(w, "|---|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, r := range idle {
			if r.Err != nil {
				fmt.Fprintf(w, "| %s | %d | error: %v |||||||\n", r.Contender, r.Sessions, r.Err)
				continue
			}
			fmt.Fprintf(w, "| %s | %d | %s | %s | %.1f | %.2f%% | %s | %.2f%% |\n", r.Contender, r.Sessions,
				kib(r.Server.RSS), kib(r.Server.GoMemory), r.Server.Goroutines, 100*r.Server.CPU,
				kib(r.Client.RSS), 100*r.Client.CPU)
		}
		fmt.Fprintln(w, "\nCPU is the process's CPU time over the measured wall time, in percent of one core.")
		if d := shorterThanHeartbeat(idle); d > 0 {
			fmt.Fprintf(w, "The heartbeat interval is longer than the measured time (%s), which may then hold no heartbeat at all; measure for at least one interval (-idle-duration).\n", seconds(d))
		}
		if quiet := idleQuiet(idle); len(quiet) > 0 {
			fmt.Fprintf(w, "Without heartbeats of their own: %s.\n", strings.Join(quiet, ", "))
		}
		fmt.Fprintln(w)
	}

	if targets := Targets(results, idle); len(targets) > 0 {
		fmt.Fprint(w, "### Targets\n\n| target | measured | met |\n|---|--:|:-:|\n")
		for _, g := range targets {
			met := "no"
			if g.Met {
				met = "yes"
			}
			if g.NotJudged != "" {
				met = "n/a (" + g.NotJudged + ")"
			}
			fmt.Fprintf(w, "| %s | %s | %s |\n", g.Name, g.Measured, met)
		}
		fmt.Fprintln(w)
	}

	var errs []string
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, fmt.Sprintf("- %s %s: %v", r.Contender, r.Spec, r.Err))
		}
	}
	if len(errs) > 0 {
		fmt.Fprintf(w, "### Errors\n\n%s\n\n", strings.Join(errs, "\n"))
	}
}

// Target is one of the project's performance goals, checked against a run.
type Target struct {
	Name     string // what the goal is
	Measured string // the value the run measured, formatted
	Met      bool   // whether the run met the goal
	// NotJudged, if not empty, says why the run's conditions are not the
	// target's, so that Met means nothing.
	NotJudged string
}

// Targets checks the project's performance goals against results.
func Targets(results []Result, idle []IdleResult) []Target {
	t := newTable(results)
	var out []Target
	key := Spec{Throughput, Small, 1, 128}
	cmpAt := func(key Spec, name, a, b string, min float64) {
		x, y := t.rate(a, key), t.rate(b, key)
		if math.IsNaN(x) || math.IsNaN(y) {
			return
		}
		out = append(out, Target{Name: name, Measured: fmt.Sprintf("%.2f×", x/y), Met: x/y >= min})
	}
	cmp := func(name, a, b string, min float64) { cmpAt(key, name, a, b, min) }
	cmp("netmessage/msgpack ≥ 2× gRPC, 1 conn × 128 callers", "netmessage/msgpack", "grpc", 2)
	cmp("netmessage/msgpack ≥ 1.5× net/rpc, 1 conn × 128 callers", "netmessage/msgpack", "net/rpc", 1.5)
	cmp("base ≥ 70% of the floor, 1 conn × 128 callers", "base", "floor", 0.7)
	cmp("netmessage/msgpack ≥ 70% of the floor, 1 conn × 128 callers", "netmessage/msgpack", "floor", 0.7)
	// Typed calls closer to the wire (issue 15).
	cmp("netmessage/msgpack-gen ≥ 50% of the floor, 1 conn × 128 callers", "netmessage/msgpack-gen", "floor", 0.5)
	cmp("netmessage/msgpack ≥ 25% of the floor, 1 conn × 128 callers", "netmessage/msgpack", "floor", 0.25)
	cmpAt(Spec{Throughput, Large, 1, 128}, "netmessage/msgpack 16 KiB ≥ 50% of the floor, 1 conn × 128 callers",
		"netmessage/msgpack", "floor", 0.5)
	cmp("netmessage/copy (no serialization) within 15% of base/Request, 1 conn × 128 callers", "netmessage/copy", "base/Request", 1/1.15)
	lat := Spec{Latency, Small, 1, 1}
	if f, ok := t.get("floor", lat); ok {
		for _, g := range []struct {
			name string
			max  float64
		}{{"base", 1.3}, {"netmessage/msgpack", 1.3}, {"netmessage/msgpack", 1.25}, {"netmessage/msgpack-gen", 1.15}} {
			if r, ok := t.get(g.name, lat); ok {
				q := float64(r.P50) / float64(f.P50)
				out = append(out, Target{Name: fmt.Sprintf("%s ping-pong p50 ≤ %v× the floor's", g.name, g.max),
					Measured: fmt.Sprintf("%.2f×", q), Met: q <= g.max})
			}
		}
	}
	if r, ok := t.get("netmessage/msgpack", lat); ok {
		out = append(out, Target{Name: "netmessage/msgpack ≤ 8 allocations per small call",
			Measured: fmt.Sprintf("%.1f", r.Allocs), Met: r.Allocs <= 8})
	}
	for _, r := range idle {
		if r.Err != nil || r.Contender == "floor" {
			continue
		}
		cpu := Target{
			Name:     fmt.Sprintf("%s %d idle sessions < 5%% of a core (server)", r.Contender, r.Sessions),
			Measured: fmt.Sprintf("%.2f%%", 100*r.Server.CPU),
			Met:      r.Server.CPU < 0.05,
		}
		// The target is for the default heartbeats, which cost most of
		// the CPU time.
		if r.Heartbeat != 0 && r.Heartbeat != base.DefaultHeartbeatInterval {
			cpu.NotJudged = "heartbeat changed"
		}
		out = append(out,
			Target{
				Name:     fmt.Sprintf("%s idle session ≤ 16 KiB (server, RSS)", r.Contender),
				Measured: kib(r.Server.RSS),
				Met:      r.Server.RSS <= 16<<10,
			},
			cpu,
		)
	}
	return out
}

// idleHeartbeats describes the heartbeats of the idle results, such as
// "heartbeat every 2 s".
func idleHeartbeats(idle []IdleResult) string {
	var intervals []string
	for _, r := range idle {
		if s := seconds(r.Heartbeat); r.Heartbeat > 0 && !slices.Contains(intervals, s) {
			intervals = append(intervals, s)
		}
	}
	if len(intervals) == 0 {
		return "no heartbeats"
	}
	return "heartbeat every " + strings.Join(intervals, " or ")
}

// shorterThanHeartbeat returns the shortest measured time of the idle results
// whose heartbeat interval is longer than it, or 0 if there is none.
func shorterThanHeartbeat(idle []IdleResult) time.Duration {
	var d time.Duration
	for _, r := range idle {
		if r.Err == nil && r.Heartbeat > r.Duration && (d == 0 || r.Duration < d) {
			d = r.Duration
		}
	}
	return d
}

// idleQuiet returns the contenders of the idle results that send no
// heartbeats.
func idleQuiet(idle []IdleResult) []string {
	var names []string
	for _, r := range idle {
		if r.Heartbeat == 0 {
			names = append(names, r.Contender)
		}
	}
	return names
}

func (t *table) cell(name string, spec Spec, f func(Result) string) string {
	r, ok := t.by[name][spec]
	switch {
	case !ok:
		return "–"
	case r.Err != nil:
		return "error"
	case r.Skipped:
		return "n/a"
	case r.Ops == 0:
		return "0"
	}
	return f(r)
}

func (t *table) hasSize(size Size) bool {
	for _, m := range t.by {
		for spec := range m {
			if spec.Size == size && spec.Kind != OneWay {
				return true
			}
		}
	}
	return false
}

func (t *table) hasKind(kind Kind) bool {
	for _, m := range t.by {
		for spec := range m {
			if spec.Kind == kind {
				return true
			}
		}
	}
	return false
}

func (t *table) hasSpec(spec Spec) bool {
	for _, m := range t.by {
		if _, ok := m[spec]; ok {
			return true
		}
	}
	return false
}

func sizeWords(s Size) string {
	if s == Large {
		return "16 KiB"
	}
	return "small"
}

// count formats n with thousands separators.
func count(n float64) string {
	s := fmt.Sprintf("%.0f", n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func percent(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*a/b)
}

func micros(d time.Duration) string {
	return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
}

func kib(b float64) string {
	return fmt.Sprintf("%.1f KiB", b/1024)
}

// seconds formats d as "2 s", "2.5 s" or "500 ms".
func seconds(d time.Duration) string {
	if d >= time.Second || d == 0 {
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
	}
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64) + " ms"
}
