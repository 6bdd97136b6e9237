// Command bench measures every contender of the comparison in one run on
// loopback and prints a markdown report; it also writes an SVG chart of
// throughput against concurrency.
//
// Run it from tests/bench:
//
//	go run ./cmd/bench            # the full run, several minutes
//	go run ./cmd/bench -short     # every contender briefly
//
// The flags set the measured time per workload, the number of interleaved
// rounds (each result is the round with the median rate), the contenders,
// and the idle-session measurement; -cpuprofile and -memprofile profile the
// call workloads:
//
//	go run ./cmd/bench -contenders base -rounds 1 -duration 5s -idle "" -svg "" -cpuprofile cpu.prof
//
// Idle sessions use each contender's default heartbeats (every 2 s, receive
// timeout 5 s) unless -idle-heartbeat sets another interval for both ends
// of the contenders that have heartbeats (the floor, base and netmessage);
// the receive timeout stays 2.5 intervals:
//
//	go run ./cmd/bench -idle-only -idle-heartbeat 10s -svg ""
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/netmessage-go/netmessage/tests/bench"
)

func main() {
	if child, err := bench.IdleChild(); child {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		short        = flag.Bool("short", false, "run every contender briefly (50 ms per workload, one round, 200 idle sessions)")
		duration     = flag.Duration("duration", time.Second, "measured time per workload and round")
		warmup       = flag.Duration("warmup", 250*time.Millisecond, "unmeasured time before each measurement")
		rounds       = flag.Int("rounds", 3, "interleaved rounds; each result is the round with the median rate")
		only         = flag.String("contenders", "", "comma-separated contenders to run (default: all)")
		workloads    = flag.String("workloads", "", "comma-separated workloads to run, each matching the start of a name such as throughput/small/1x128 (default: all)")
		idleNames    = flag.String("idle", "floor,base,netmessage/msgpack", "comma-separated contenders whose idle sessions are measured (empty: none)")
		idleSessions = flag.Int("idle-sessions", 10000, "idle sessions to connect")
		idleSettle   = flag.Duration("idle-settle", 5*time.Second, "time idle sessions settle before they are measured")
		idleDuration = flag.Duration("idle-duration", 10*time.Second, "time over which idle CPU use is measured")
		idleBeat     = flag.Duration("idle-heartbeat", 0, "heartbeat interval of idle sessions, receive timeout 2.5 intervals (0: each contender's default, 2 s)")
		idleOnly     = flag.Bool("idle-only", false, "measure idle sessions only")
		svgPath      = flag.String("svg", "../../docs/perf-throughput.svg", "where to write the chart (empty: nowhere)")
		mdPath       = flag.String("md", "", "also write the report to this file")
		quiet        = flag.Bool("q", false, "no progress lines on standard error")
		cpuProfile   = flag.String("cpuprofile", "", "write a CPU profile of the call workloads to this file")
		memProfile   = flag.String("memprofile", "", "write an allocation profile of the call workloads to this file")
	)
	flag.Parse()
	if *idleBeat < 0 {
		return fmt.Errorf("-idle-heartbeat %v: negative", *idleBeat)
	}
	if *short {
		*duration, *warmup, *rounds = 50*time.Millisecond, 20*time.Millisecond, 1
		*idleSessions, *idleSettle, *idleDuration = 200, 500*time.Millisecond, time.Second
	}

	contenders := bench.Contenders()
	if *only != "" {
		contenders = nil
		for _, name := range strings.Split(*only, ",") {
			c, ok := bench.Lookup(strings.TrimSpace(name))
			if !ok {
				return fmt.Errorf("no contender %q", name)
			}
			contenders = append(contenders, c)
		}
	}
	var idle []bench.Contender
	if *idleNames != "" {
		for _, name := range strings.Split(*idleNames, ",") {
			c, ok := bench.Lookup(strings.TrimSpace(name))
			if !ok {
				return fmt.Errorf("no contender %q", name)
			}
			idle = append(idle, c.WithHeartbeat(*idleBeat))
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	suite := bench.Suite{
		Contenders: contenders,
		Specs:      selectSpecs(bench.Specs(), *workloads),
		Timing:     bench.Timing{Warmup: *warmup, Duration: *duration},
		Rounds:     *rounds,
	}
	if !*quiet {
		suite.Progress = os.Stderr
	}
	start := time.Now()
	var results []bench.Result
	if !*idleOnly {
		stopProfile, err := startProfiles(*cpuProfile, *memProfile)
		if err != nil {
			return err
		}
		results = suite.Run(ctx)
		if err := stopProfile(); err != nil {
			return err
		}
	}
	var idleResults []bench.IdleResult
	for _, c := range idle {
		if ctx.Err() != nil {
			break
		}
		r := bench.Idle(ctx, c, *idleSessions, *idleSettle, *idleDuration)
		if !*quiet {
			fmt.Fprintf(os.Stderr, "idle %s: %+v\n", c.Name, r)
		}
		idleResults = append(idleResults, r)
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	var out strings.Builder
	fmt.Fprintf(&out, "Machine: %s  \n", bench.Machine())
	fmt.Fprintf(&out, "Command: `%s`  \n", strings.Join(append([]string{"go run ./cmd/bench"}, os.Args[1:]...), " "))
	fmt.Fprintf(&out, "Per workload: %v warm-up, %v measured, %d round(s), median round; run took %v.\n\n",
		*warmup, *duration, *rounds, time.Since(start).Round(time.Second))
	fmt.Fprint(&out, "| contender | what |\n|---|---|\n")
	for _, c := range contenders {
		fmt.Fprintf(&out, "| %s | %s |\n", c.Name, c.Note)
	}
	fmt.Fprintln(&out)
	bench.Report(&out, results, idleResults)
	fmt.Print(out.String())
	if *mdPath != "" {
		if err := os.WriteFile(*mdPath, []byte(out.String()), 0o644); err != nil {
			return err
		}
	}
	if *svgPath != "" && len(results) > 0 {
		f, err := os.Create(*svgPath)
		if err != nil {
			return err
		}
		if err := bench.Chart(f, results); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "chart written to %s\n", *svgPath)
	}
	for _, r := range results {
		if r.Err != nil {
			return fmt.Errorf("%d workload(s) failed; see the report", countErrors(results))
		}
	}
	return nil
}

// startProfiles starts the CPU profile and sets the allocation sampling
// rate; the function it returns writes the profiles.
func startProfiles(cpuPath, memPath string) (func() error, error) {
	var cpu *os.File
	if cpuPath != "" {
		f, err := os.Create(cpuPath)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		cpu = f
	}
	if memPath != "" {
		runtime.MemProfileRate = 4096
	}
	return func() error {
		if cpu != nil {
			pprof.StopCPUProfile()
			if err := cpu.Close(); err != nil {
				return err
			}
		}
		if memPath == "" {
			return nil
		}
		f, err := os.Create(memPath)
		if err != nil {
			return err
		}
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}, nil
}

func countErrors(results []bench.Result) int {
	n := 0
	for _, r := range results {
		if r.Err != nil {
			n++
		}
	}
	return n
}

// selectSpecs returns the workloads among specs whose names start with one
// of the comma-separated prefixes in names; all of them if names is empty.
func selectSpecs(specs []bench.Spec, names string) []bench.Spec {
	if names == "" {
		return specs
	}
	var out []bench.Spec
	for _, s := range specs {
		for _, n := range strings.Split(names, ",") {
			if strings.HasPrefix(s.String(), strings.TrimSpace(n)) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}
