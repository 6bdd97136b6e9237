// Command clusterbench measures the cluster module on one machine: the
// latency and throughput of messages sent to keys bound on other servers,
// and the time a broadcast takes to reach every session.
//
// The parent process runs an embedded NATS server and the netmessage
// servers; it starts itself again as a child that holds the client
// sessions, so that each process stays under its file limit.
//
//	go run ./cmd/clusterbench -servers 3 -sessions 1000
//	go run ./cmd/clusterbench -servers 1 -sessions 1000
//	go run ./cmd/clusterbench -servers 3 -sessions 10000 -latency=false -throughput=false -broadcasts 5
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/cluster"
	"github.com/netmessage-go/netmessage/cluster/embedded"
	"github.com/netmessage-go/netmessage/netmessage"
)

// Login binds the session to the key User.
type Login struct {
	netmessage.Returns[Login]
	User string
}

// Msg carries the time it was sent, in Unix nanoseconds.
type Msg struct{ Sent int64 }

func main() {
	var (
		servers    = flag.Int("servers", 3, "netmessage servers")
		sessions   = flag.Int("sessions", 1000, "client sessions, spread over the servers")
		latency    = flag.Bool("latency", true, "measure latency at a steady rate")
		rate       = flag.Int("rate", 1000, "messages per second per server, for latency")
		duration   = flag.Duration("duration", 3*time.Second, "latency phase length")
		throughput = flag.Bool("throughput", true, "measure throughput")
		count      = flag.Int("messages", 60000, "messages for throughput")
		broadcasts = flag.Int("broadcasts", 0, "broadcasts to time")
	)
	flag.Parse()
	childMain()
	switch {
	case *latency && (*rate < 1 || *rate > int(time.Second) || *duration <= 0):
		log.Fatalf("-rate %d or -duration %v: a latency run needs a rate of 1 to 1e9 messages a second and a positive duration", *rate, *duration)
	case *throughput && *count < *servers:
		log.Fatalf("-messages %d: a throughput run needs a message per server at least", *count)
	}
	p, err := start(*servers, *sessions)
	if err != nil {
		log.Fatal(err)
	}
	defer p.close()
	fmt.Printf("%d sessions over %d servers\n", *sessions, *servers)
	if *latency {
		n := p.send(*rate, *duration)
		st := p.wait(n)
		fmt.Printf("latency at %.0f msg/s in all (%d messages): p50 %v  p99 %v  max %v\n",
			float64(n)/duration.Seconds(), n, st.p50, st.p99, st.max)
	}
	if *throughput {
		begin := time.Now()
		n := p.send(0, time.Duration(*count))
		st := p.wait(n)
		d := time.Unix(0, st.last).Sub(begin)
		fmt.Printf("throughput: %d messages in %v: %.0f msg/s (p50 %v p99 %v)\n", n, d.Round(time.Millisecond), float64(n)/d.Seconds(), st.p50, st.p99)
	}
	var fan []time.Duration
	for range *broadcasts {
		sent := time.Now()
		if err := p.nodes[0].Broadcast(context.Background(), Msg{Sent: sent.UnixNano()}); err != nil {
			log.Fatal(err)
		}
		st := p.wait(*sessions)
		fan = append(fan, time.Unix(0, st.last).Sub(sent))
		time.Sleep(500 * time.Millisecond)
	}
	if len(fan) > 0 {
		slices.Sort(fan)
		fmt.Printf("broadcast to %d sessions, time until the last has it: median %v, min %v, max %v (%d runs)\n",
			*sessions, fan[len(fan)/2].Round(time.Millisecond), fan[0].Round(time.Millisecond), fan[len(fan)-1].Round(time.Millisecond), len(fan))
	}
}

// parent holds the servers and talks to the child.
type parent struct {
	ns       *embedded.Server
	nodes    []*cluster.Node
	stops    []func()
	keys     [][]string // keys bound on each server
	cmd      *exec.Cmd
	in       io.WriteCloser
	out      *bufio.Scanner
	sessions int
}

func start(servers, sessions int) (*parent, error) {
	if servers < 1 || sessions < servers {
		return nil, fmt.Errorf("%d servers, %d sessions: a run needs a server and a session on each server at least", servers, sessions)
	}
	ns, err := embedded.Start("")
	if err != nil {
		return nil, err
	}
	p := &parent{ns: ns, sessions: sessions, keys: make([][]string, servers)}
	var addrs []string
	for i := range servers {
		nc, err := ns.Connect()
		if err != nil {
			return nil, err
		}
		mux, err := netmessage.NewMux()
		if err != nil {
			return nil, err
		}
		srv := netmessage.NewServer(mux)
		node, err := cluster.New(srv, nc, cluster.WithName(fmt.Sprint("s", i)))
		if err != nil {
			return nil, err
		}
		netmessage.HandleRequest(mux, func(ctx context.Context, s *base.Session, l Login) (Login, error) {
			return l, node.Bind(s, l.User)
		})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		go srv.Serve(ln)
		addrs = append(addrs, ln.Addr().String())
		p.nodes = append(p.nodes, node)
		p.stops = append(p.stops, func() { node.Close(); srv.Close(); nc.Close() })
	}
	for i := range sessions {
		p.keys[i%servers] = append(p.keys[i%servers], fmt.Sprint("u", i))
	}
	p.cmd = exec.Command(os.Args[0])
	p.cmd.Env = append(os.Environ(), childAddrs+"="+strings.Join(addrs, ","), childSessions+"="+strconv.Itoa(sessions))
	p.cmd.Stderr = os.Stderr
	if p.in, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.out = bufio.NewScanner(out)
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	if !p.out.Scan() || p.out.Text() != "ready" {
		return nil, fmt.Errorf("child: %q %v", p.out.Text(), p.out.Err())
	}
	for { // until every server sees every key
		ok := true
		for _, n := range p.nodes {
			total := 0
			for _, info := range n.Nodes() {
				total += len(info.Keys)
			}
			ok = ok && total == sessions
		}
		if ok {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return p, nil
}

func (p *parent) close() {
	p.in.Close()
	p.cmd.Wait()
	for _, stop := range p.stops {
		stop()
	}
	p.ns.Close()
}

// send has each server send to keys bound on the next server (its own
// when alone): at rate messages per second for d, or, with rate 0, int(d)
// messages in all as fast as it can. It returns the count sent.
func (p *parent) send(rate int, d time.Duration) int {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
	)
	for i, node := range p.nodes {
		keys := p.keys[(i+1)%len(p.nodes)]
		wg.Go(func() {
			ctx := context.Background()
			n := 0
			if rate == 0 {
				for n < int(d)/len(p.nodes) {
					if err := node.Send(ctx, keys[n%len(keys)], Msg{Sent: time.Now().UnixNano()}); err != nil {
						log.Fatal(err)
					}
					n++
				}
			} else {
				tick := time.NewTicker(time.Second / time.Duration(rate))
				defer tick.Stop()
				for end := time.Now().Add(d); time.Now().Before(end); <-tick.C {
					if err := node.Send(ctx, keys[n%len(keys)], Msg{Sent: time.Now().UnixNano()}); err != nil {
						log.Fatal(err)
					}
					n++
				}
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	return total
}

type stats struct {
	p50, p99, max time.Duration
	last          int64
}

// wait asks the child for the figures once n messages have arrived.
func (p *parent) wait(n int) stats {
	fmt.Fprintf(p.in, "wait %d\n", n)
	if !p.out.Scan() {
		log.Fatalf("child: %v", p.out.Err())
	}
	var st stats
	var p50, p99, max int64
	if _, err := fmt.Sscanf(p.out.Text(), "stats %d %d %d %d", &p50, &p99, &max, &st.last); err != nil {
		log.Fatalf("child said %q: %v", p.out.Text(), err)
	}
	st.p50, st.p99, st.max = time.Duration(p50), time.Duration(p99), time.Duration(max)
	return st
}

// The child learns its work from the environment.
const (
	childAddrs    = "CLUSTERBENCH_ADDRS"
	childSessions = "CLUSTERBENCH_SESSIONS"
)

// childMain runs the clients and exits when this process is the child.
func childMain() {
	addrs := os.Getenv(childAddrs)
	if addrs == "" {
		return
	}
	n, err := strconv.Atoi(os.Getenv(childSessions))
	if err == nil {
		err = runClients(strings.Split(addrs, ","), n)
	}
	if err != nil {
		log.Fatal(err)
	}
	os.Exit(0)
}

// runClients connects the sessions, then answers "wait n" lines.
func runClients(addrs []string, sessions int) error {
	var (
		mu   sync.Mutex
		lat  []time.Duration
		last int64
		more = make(chan struct{}, 1)
	)
	ctx := context.Background()
	var clients []*base.Client
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for i := range sessions {
		mux, err := netmessage.NewMux()
		if err != nil {
			return err
		}
		c := netmessage.NewClient(mux)
		netmessage.HandleMessage(mux, func(ctx context.Context, _ *base.Session, m Msg) {
			now := time.Now().UnixNano()
			mu.Lock()
			lat = append(lat, time.Duration(now-m.Sent))
			last = max(last, now)
			mu.Unlock()
			select {
			case more <- struct{}{}:
			default:
			}
		})
		if err := c.Connect(ctx, addrs[i%len(addrs)]); err != nil {
			return err
		}
		clients = append(clients, c)
		if _, err := netmessage.Request(ctx, c, Login{User: fmt.Sprint("u", i)}); err != nil {
			return err
		}
	}
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var n int
		if _, err := fmt.Sscanf(in.Text(), "wait %d", &n); err != nil {
			return err
		}
		timeout := time.After(2 * time.Minute)
		for {
			mu.Lock()
			got := len(lat)
			mu.Unlock()
			if got >= n {
				break
			}
			select {
			case <-more:
			case <-timeout:
				return fmt.Errorf("got %d of %d messages", got, n)
			}
		}
		mu.Lock()
		slices.Sort(lat)
		fmt.Printf("stats %d %d %d %d\n", lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1], last)
		lat, last = lat[:0], 0
		mu.Unlock()
	}
	return in.Err()
}
