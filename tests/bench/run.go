package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is a kind of workload.
type Kind int

// The workload kinds.
const (
	// Latency: callers make calls one after another; every call's time is
	// recorded. With one caller on one connection this is ping-pong.
	Latency Kind = iota
	// Throughput: callers make calls one after another as fast as they can;
	// calls per second are counted.
	Throughput
	// OneWay: one sender sends one-way messages as fast as it can; the
	// rate is messages per second until the server has received them all.
	OneWay
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case Latency:
		return "latency"
	case Throughput:
		return "throughput"
	case OneWay:
		return "one-way"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Spec is one workload: its kind, packet size, connections and concurrent
// callers (spread evenly over the connections).
type Spec struct {
	Kind    Kind // how callers use the connections
	Size    Size // the packet size
	Conns   int  // the number of connections
	Callers int  // the number of concurrent callers
}

// String returns a name such as "throughput/small/1x128".
func (s Spec) String() string {
	return fmt.Sprintf("%s/%s/%dx%d", s.Kind, s.Size, s.Conns, s.Callers)
}

// Specs returns the workloads of a full run: for each size, ping-pong
// latency; throughput with 16 and 128 callers on one connection and 128
// callers on 8 connections; and one-way messages.
func Specs() []Spec {
	var specs []Spec
	for _, size := range []Size{Small, Large} {
		specs = append(specs,
			Spec{Latency, size, 1, 1},
			Spec{Throughput, size, 1, 16},
			Spec{Throughput, size, 1, 128},
			Spec{Throughput, size, 8, 128},
			Spec{OneWay, size, 1, 1},
		)
	}
	return specs
}

// Timing says how long each measurement runs.
type Timing struct {
	Warmup   time.Duration // run, unmeasured, before measuring
	Duration time.Duration // measured
}

// Result is the outcome of one contender in one workload.
type Result struct {
	Contender string        // the contender's Name
	Spec      Spec          // the workload
	Ops       int64         // calls or messages completed while measured
	Completed int64         // calls or messages completed in all, warm-up included
	Elapsed   time.Duration // measured time
	P50, P99  time.Duration // call latency percentiles (Latency only)
	// Allocs and AllocBytes are the heap allocations per operation in the
	// whole process, both ends of the connection together.
	Allocs, AllocBytes float64
	Skipped            bool  // the contender has no such workload
	Err                error // the first error, if any
	// MinRate and MaxRate are the lowest and highest rate among the
	// rounds (Suite.Run); both are Rate() for a single round.
	MinRate, MaxRate float64
}

// Rate returns operations per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Elapsed.Seconds()
}

// MBps returns megabytes (10^6 bytes) of payload per second, counting
// each operation as RawSize(r.Spec.Size) bytes each way it travels.
func (r Result) MBps() float64 {
	return r.Rate() * float64(RawSize(r.Spec.Size)) / 1e6
}

// Run measures contender c in workload spec: it starts a server on a
// loopback port, connects spec.Conns clients, runs the workload and closes
// everything.
func Run(ctx context.Context, c Contender, spec Spec, t Timing) Result {
	res := Result{Contender: c.Name, Spec: spec}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		res.Err = err
		return res
	}
	srv, err := c.Serve(ln)
	if err != nil {
		ln.Close()
		res.Err = err
		return res
	}
	defer srv.Close()
	clients := make([]Client, 0, spec.Conns)
	defer func() {
		for _, cl := range clients {
			cl.Close()
		}
	}()
	for range spec.Conns {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		cl, err := c.Dial(dctx, ln.Addr().String())
		cancel()
		if err != nil {
			res.Err = fmt.Errorf("dial: %w", err)
			return res
		}
		clients = append(clients, cl)
	}
	runtime.GC()
	if spec.Kind == OneWay {
		runOneWay(ctx, srv, clients[0], t, &res)
	} else {
		runCalls(ctx, clients, t, &res)
	}
	return res
}

// counter is a per-caller counter on a cache line of its own.
type counter struct {
	n atomic.Int64
	_ [56]byte
}

const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseStop
)

func runCalls(ctx context.Context, clients []Client, t Timing, res *Result) {
	spec := res.Spec
	var (
		phase   atomic.Int32
		counts  = make([]counter, spec.Callers)
		samples = make([][]time.Duration, spec.Callers)
		errOnce sync.Once
		wg      sync.WaitGroup
	)
	record := spec.Kind == Latency
	for i := range spec.Callers {
		cl := clients[i%len(clients)]
		if record {
			samples[i] = make([]time.Duration, 0, 1<<16)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ph := phase.Load()
				if ph == phaseStop {
					return
				}
				var start time.Time
				if record {
					start = time.Now()
				}
				if err := cl.Call(ctx, spec.Size); err != nil {
					errOnce.Do(func() { res.Err = err })
					return
				}
				if record && ph == phaseMeasure {
					samples[i] = append(samples[i], time.Since(start))
				}
				counts[i].n.Add(1)
			}
		}()
	}
	total := func() int64 {
		var n int64
		for i := range counts {
			n += counts[i].n.Load()
		}
		return n
	}
	sleep(ctx, t.Warmup)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	n0, t0 := total(), time.Now()
	phase.Store(phaseMeasure)
	sleep(ctx, t.Duration)
	n1, t1 := total(), time.Now()
	runtime.ReadMemStats(&m1)
	phase.Store(phaseStop)
	wg.Wait()

	res.Ops, res.Elapsed, res.Completed = n1-n0, t1.Sub(t0), total()
	setAllocs(res, &m0, &m1)
	if record {
		all := slices.Concat(samples...)
		slices.Sort(all)
		if len(all) > 0 {
			res.P50 = all[len(all)*50/100]
			res.P99 = all[len(all)*99/100]
		}
	}
}

func runOneWay(ctx context.Context, srv Server, cl Client, t Timing, res *Result) {
	var sent int64
	send := func(d time.Duration) error {
		end := time.Now().Add(d)
		for time.Now().Before(end) && ctx.Err() == nil {
			for range 16 {
				if err := cl.Send(ctx, res.Spec.Size); err != nil {
					return err
				}
				sent++
			}
		}
		return nil
	}
	drained := func() error {
		deadline := time.Now().Add(30*time.Second + 10*t.Duration)
		for srv.Received() < sent {
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("%d of %d messages received", srv.Received(), sent)
			}
			time.Sleep(50 * time.Microsecond)
		}
		return nil
	}
	if err := send(t.Warmup); err != nil {
		if errors.Is(err, ErrUnsupported) {
			res.Skipped = true
		} else {
			res.Err = err
		}
		return
	}
	if err := drained(); err != nil {
		res.Err = err
		return
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	base, t0 := sent, time.Now()
	if err := send(t.Duration); err != nil {
		res.Err = err
		return
	}
	if err := drained(); err != nil {
		res.Err = err
		return
	}
	t1 := time.Now()
	runtime.ReadMemStats(&m1)
	res.Ops, res.Elapsed, res.Completed = sent-base, t1.Sub(t0), sent
	setAllocs(res, &m0, &m1)
}

func setAllocs(res *Result, m0, m1 *runtime.MemStats) {
	if res.Ops > 0 {
		res.Allocs = float64(m1.Mallocs-m0.Mallocs) / float64(res.Ops)
		res.AllocBytes = float64(m1.TotalAlloc-m0.TotalAlloc) / float64(res.Ops)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// Suite is a set of contenders and workloads measured together.
type Suite struct {
	Contenders []Contender // the contenders measured
	Specs      []Spec      // the workloads each contender runs
	Timing     Timing      // the warm-up and measured time of each workload
	// Rounds is how often each measurement is repeated; the result is the
	// round with the median rate. The rounds are interleaved (every
	// contender in every workload, then again), so that a slow spell of a
	// busy machine hits all contenders alike.
	Rounds int
	// Progress, if not nil, receives a line per measurement.
	Progress io.Writer
}

// Run runs the suite and returns a result per contender and workload, in
// the order of Specs, then Contenders.
func (s Suite) Run(ctx context.Context) []Result {
	rounds := max(s.Rounds, 1)
	all := make([][]Result, len(s.Specs)*len(s.Contenders))
	for r := range rounds {
		for i, spec := range s.Specs {
			for k, c := range s.Contenders {
				if ctx.Err() != nil {
					break
				}
				res := Run(ctx, c, spec, s.Timing)
				if s.Progress != nil {
					fmt.Fprintf(s.Progress, "round %d/%d %-22s %-26s %s\n", r+1, rounds, c.Name, spec, summary(res))
				}
				all[i*len(s.Contenders)+k] = append(all[i*len(s.Contenders)+k], res)
			}
		}
	}
	out := make([]Result, 0, len(all))
	for _, rs := range all {
		if len(rs) > 0 {
			out = append(out, median(rs))
		}
	}
	return out
}

// median returns the result with the median rate; an error in any round
// is kept.
func median(rs []Result) Result {
	sorted := slices.Clone(rs)
	slices.SortFunc(sorted, func(a, b Result) int {
		switch ra, rb := a.Rate(), b.Rate(); {
		case ra < rb:
			return -1
		case ra > rb:
			return 1
		}
		return 0
	})
	m := sorted[len(sorted)/2]
	m.MinRate, m.MaxRate = sorted[0].Rate(), sorted[len(sorted)-1].Rate()
	for _, r := range rs {
		if r.Err != nil && m.Err == nil {
			m.Err = r.Err
		}
	}
	return m
}

func summary(r Result) string {
	switch {
	case r.Err != nil:
		return "error: " + r.Err.Error()
	case r.Skipped:
		return "skipped"
	case r.Spec.Kind == Latency:
		return fmt.Sprintf("%.0f calls/s p50 %v p99 %v %.1f allocs/call", r.Rate(), r.P50, r.P99, r.Allocs)
	case r.Spec.Kind == OneWay:
		return fmt.Sprintf("%.0f msgs/s %.1f MB/s %.1f allocs/msg", r.Rate(), r.MBps(), r.Allocs)
	}
	return fmt.Sprintf("%.0f calls/s %.1f allocs/call", r.Rate(), r.Allocs)
}
