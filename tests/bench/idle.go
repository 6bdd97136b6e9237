package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The idle measurement runs the server in this process and the clients in
// a child process (this program again, told so by an environment
// variable), so that each side's memory and CPU time are its own. The
// variable's value is "contender|address|sessions|heartbeat", the last the
// clients' heartbeat interval (Contender.Heartbeat) as a time.Duration
// string; "0s" leaves the contender as it is.
const childEnv = "NETMESSAGE_BENCH_IDLE_CLIENTS"

// IdleResult is the cost of idle connections: memory per session and CPU
// time (heartbeats and timers) on each side.
type IdleResult struct {
	Contender string        // the contender's Name
	Sessions  int           // idle sessions held open
	Duration  time.Duration // how long CPU time was measured
	// Heartbeat is the interval at which both ends sent heartbeats
	// (Contender.Heartbeat), 0 if they send none.
	Heartbeat time.Duration
	Server    IdleSide // the server's share
	Client    IdleSide // the clients' share
	Err       error    // the error that stopped the measurement, if any
}

// IdleSide is one side's share of an idle measurement.
type IdleSide struct {
	// RSS is the growth of the resident set size per session.
	RSS float64 `json:"rss"`
	// GoMemory is the growth of the Go heap in use plus goroutine stacks,
	// per session.
	GoMemory float64 `json:"go_memory"`
	// Goroutines is the number of goroutines per session.
	Goroutines float64 `json:"goroutines"`
	// CPU is the CPU time used divided by the wall time: 1 is one core.
	CPU float64 `json:"cpu"`
}

// IdleChild runs the client side of an idle measurement if this process
// was started for one, and reports whether it was. A program that calls
// Idle calls IdleChild first thing and exits if it returns true.
func IdleChild() (bool, error) {
	v, ok := os.LookupEnv(childEnv)
	if !ok {
		return false, nil
	}
	return true, runChild(v)
}

// Idle connects n clients of contender c to a server, lets them sit idle
// for settle (so timers and heartbeats reach their steady state), and then
// measures memory and CPU time on both sides over d. Both ends use c's
// heartbeat interval (see Contender.WithHeartbeat).
func Idle(ctx context.Context, c Contender, n int, settle, d time.Duration) IdleResult {
	res := IdleResult{Contender: c.Name, Sessions: n, Duration: d, Heartbeat: c.Heartbeat()}
	if err := raiseFileLimit(n + 256); err != nil {
		res.Err = err
		return res
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		res.Err = err
		return res
	}
	cl := &countingListener{Listener: ln}
	srv, err := c.Serve(cl)
	if err != nil {
		ln.Close()
		res.Err = err
		return res
	}
	defer srv.Close()
	before := snapshot()

	exe, err := os.Executable()
	if err != nil {
		res.Err = err
		return res
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%s|%d|%s", childEnv, c.Name, ln.Addr(), n, c.Heartbeat()))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		res.Err = err
		return res
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		res.Err = err
		return res
	}
	if err := cmd.Start(); err != nil {
		res.Err = err
		return res
	}
	defer func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil && res.Err == nil {
			res.Err = fmt.Errorf("client process: %v: %s", err, strings.TrimSpace(stderr.String()))
		}
	}()
	lines := bufio.NewScanner(stdout)
	expect := func(want string) error {
		if !lines.Scan() {
			return fmt.Errorf("client process ended: %s", strings.TrimSpace(stderr.String()))
		}
		if got := lines.Text(); !strings.HasPrefix(got, want) {
			return fmt.Errorf("client process said %q, want %q", got, want)
		}
		return nil
	}
	if err := expect("connected"); err != nil {
		res.Err = err
		return res
	}
	for deadline := time.Now().Add(30 * time.Second); cl.accepted.Load() < int64(n); {
		if time.Now().After(deadline) {
			res.Err = fmt.Errorf("server accepted %d of %d connections", cl.accepted.Load(), n)
			return res
		}
		time.Sleep(10 * time.Millisecond)
	}
	sleep(ctx, settle)

	after := snapshot()
	res.Server.RSS = float64(after.rss-before.rss) / float64(n)
	res.Server.GoMemory = float64(after.goMem-before.goMem) / float64(n)
	res.Server.Goroutines = float64(after.goroutines-before.goroutines) / float64(n)
	fmt.Fprintln(stdin, "measure")
	cpu0, t0 := cpuTime(), time.Now()
	sleep(ctx, d)
	cpu1, t1 := cpuTime(), time.Now()
	res.Server.CPU = (cpu1 - cpu0).Seconds() / t1.Sub(t0).Seconds()
	fmt.Fprintln(stdin, "stop")
	if err := expect("result "); err != nil {
		res.Err = err
		return res
	}
	if err := json.Unmarshal([]byte(strings.TrimPrefix(lines.Text(), "result ")), &res.Client); err != nil {
		res.Err = err
	}
	return res
}

// runChild is the client process: it connects, says "connected", and on
// "measure" and "stop" measures its side and prints "result" and JSON.
func runChild(spec string) error {
	parts := strings.Split(spec, "|")
	if len(parts) != 4 {
		return fmt.Errorf("bench: bad %s value %q", childEnv, spec)
	}
	c, ok := Lookup(parts[0])
	if !ok {
		return fmt.Errorf("bench: no contender %q", parts[0])
	}
	addr := parts[1]
	n, err := strconv.Atoi(parts[2])
	if err != nil {
		return err
	}
	heartbeat, err := time.ParseDuration(parts[3])
	if err != nil {
		return err
	}
	c = c.WithHeartbeat(heartbeat)
	if err := raiseFileLimit(n + 256); err != nil {
		return err
	}
	before := snapshot()
	clients := make([]Client, n)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		dialErr error
	)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				cl, err := c.Dial(ctx, addr)
				if err != nil {
					errOnce.Do(func() { dialErr = err })
					return
				}
				clients[i] = cl
			}
		}()
	}
	wg.Wait()
	defer closeAll(clients)
	if dialErr != nil {
		return dialErr
	}
	fmt.Println("connected")
	in := bufio.NewScanner(os.Stdin)
	if !in.Scan() || in.Text() != "measure" {
		return errors.New("bench: no measure command")
	}
	after := snapshot()
	cpu0, t0 := cpuTime(), time.Now()
	if !in.Scan() || in.Text() != "stop" {
		return errors.New("bench: no stop command")
	}
	cpu1, t1 := cpuTime(), time.Now()
	side := IdleSide{
		RSS:        float64(after.rss-before.rss) / float64(n),
		GoMemory:   float64(after.goMem-before.goMem) / float64(n),
		Goroutines: float64(after.goroutines-before.goroutines) / float64(n),
		CPU:        (cpu1 - cpu0).Seconds() / t1.Sub(t0).Seconds(),
	}
	b, err := json.Marshal(side)
	if err != nil {
		return err
	}
	fmt.Printf("result %s\n", b)
	return nil
}

func closeAll(clients []Client) {
	var wg sync.WaitGroup
	for _, cl := range clients {
		if cl == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl.Close()
		}()
	}
	wg.Wait()
}

type memSnapshot struct {
	rss        int64
	goMem      int64
	goroutines int
}

// snapshot collects garbage, returns freed memory to the system and reads
// the process's memory use.
func snapshot() memSnapshot {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSnapshot{
		rss:        residentBytes(),
		goMem:      int64(ms.HeapInuse + ms.StackInuse),
		goroutines: runtime.NumGoroutine(),
	}
}

// residentBytes returns the resident set size from /proc/self/statm, or 0.
func residentBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// raiseFileLimit raises the limit of open files to at least n, up to the
// hard limit (and the hard limit too, where the process may).
func raiseFileLimit(n int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur >= uint64(n) {
		return nil
	}
	want := lim
	want.Cur = max(uint64(n), lim.Cur)
	if want.Cur > lim.Max {
		want.Max = want.Cur
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		if lim.Max <= lim.Cur {
			return fmt.Errorf("bench: %d open files needed, limit %d: %w", n, lim.Cur, err)
		}
		want = syscall.Rlimit{Cur: lim.Max, Max: lim.Max}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
			return err
		}
		if want.Cur < uint64(n) {
			return fmt.Errorf("bench: %d open files needed, hard limit %d", n, lim.Max)
		}
	}
	return nil
}

// countingListener counts accepted connections. It hands them on as they
// are, so contenders see the connection types they would without it.
type countingListener struct {
	net.Listener
	accepted atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return conn, err
}
