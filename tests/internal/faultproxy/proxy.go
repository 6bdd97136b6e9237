// Package faultproxy is a TCP proxy on loopback for tests: it forwards each
// connection it accepts to a target address and, on command, breaks the
// link the way a network does. It can delay the bytes, stall one or both
// directions (a black hole: nothing is forwarded and nothing is closed),
// cut the connection (close both sides) or reset it (an RST to both sides).
//
// Each proxied connection owns two goroutines, one per direction, that
// read from one side and write to the other; a half-close (an end of
// stream) is passed on, so a graceful disconnect works through the proxy.
// Proxy.Close closes everything and waits for every goroutine.
package faultproxy

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"
)

// Direction is one or both directions of a proxied connection.
type Direction uint8

// The directions.
const (
	// Upstream is from the client that dialed the proxy to the target.
	Upstream Direction = 1 << iota
	// Downstream is from the target back to the client.
	Downstream
	// Both is both directions.
	Both = Upstream | Downstream
)

// String returns "upstream", "downstream", "both" or "none".
func (d Direction) String() string {
	switch d {
	case Upstream:
		return "upstream"
	case Downstream:
		return "downstream"
	case Both:
		return "both"
	case 0:
		return "none"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// dialTimeout bounds the proxy's dial to its target.
const dialTimeout = 5 * time.Second

// faults are what a connection does to the bytes it forwards.
type faults struct {
	delay   time.Duration
	stalled Direction
}

// Option configures a Proxy.
type Option func(*Proxy)

// OnConn sets a hook called with each new proxied connection, from the
// proxy's accept goroutine, once both of its sides are connected and
// before any byte is forwarded. It must not block for long: the proxy
// accepts nothing while it runs.
func OnConn(f func(*Conn)) Option {
	return func(p *Proxy) { p.onConn = f }
}

// Proxy accepts connections on 127.0.0.1 and forwards each to its target.
// It is safe for concurrent use.
type Proxy struct {
	ln     net.Listener
	target string
	onConn func(*Conn)

	mu      sync.Mutex
	conns   map[*Conn]struct{}
	lastSeq uint64
	faults  faults // applied to connections accepted from now on
	closed  bool

	wg sync.WaitGroup // the accept goroutine and every forwarding goroutine
}

// New starts a proxy on 127.0.0.1 with a free port that forwards every
// connection to target.
func New(target string, opts ...Option) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, conns: make(map[*Conn]struct{})}
	for _, o := range opts {
		o(p)
	}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the address clients dial to reach the target through the
// proxy.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Conns returns the open proxied connections, oldest first.
func (p *Proxy) Conns() []*Conn {
	p.mu.Lock()
	list := make([]*Conn, 0, len(p.conns))
	for c := range p.conns {
		list = append(list, c)
	}
	p.mu.Unlock()
	slices.SortFunc(list, func(a, b *Conn) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	return list
}

// Delay holds every chunk of bytes for at least d before forwarding it, on
// every open connection and on those accepted later. d <= 0 removes the
// delay. Chunks are forwarded one at a time, so a delay also bounds each
// direction's throughput to one read (up to 32 KiB) per d.
func (p *Proxy) Delay(d time.Duration) {
	p.update(func(f *faults) { f.delay = max(d, 0) })
}

// Stall stops forwarding in the given directions, on every open connection
// and on those accepted later, without closing anything: bytes already
// read wait in the proxy, the rest in the kernel's buffers, until Resume.
func (p *Proxy) Stall(dir Direction) {
	p.update(func(f *faults) { f.stalled |= dir })
}

// Resume removes every stall and delay, on every open connection and for
// those accepted later: held bytes are forwarded in order.
func (p *Proxy) Resume() {
	p.update(func(f *faults) { *f = faults{} })
}

func (p *Proxy) update(change func(*faults)) {
	p.mu.Lock()
	change(&p.faults)
	list := make([]*Conn, 0, len(p.conns))
	for c := range p.conns {
		list = append(list, c)
	}
	p.mu.Unlock()
	for _, c := range list {
		c.update(change)
	}
}

// Cut closes both sides of every open connection; see Conn.Cut. New
// connections are still accepted.
func (p *Proxy) Cut() {
	for _, c := range p.Conns() {
		c.Cut()
	}
}

// Reset resets both sides of every open connection; see Conn.Reset. New
// connections are still accepted.
func (p *Proxy) Reset() {
	for _, c := range p.Conns() {
		c.Reset()
	}
}

// Close stops accepting, cuts every connection and returns when all of
// the proxy's goroutines have ended. It is safe to call more than once.
func (p *Proxy) Close() error {
	p.mu.Lock()
	first := !p.closed
	p.closed = true
	p.mu.Unlock()
	if first {
		p.ln.Close()
	}
	p.Cut()
	p.wg.Wait()
	return nil
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	var pause time.Duration
	for {
		client, err := p.ln.Accept()
		if err != nil {
			if p.isClosed() || errors.Is(err, net.ErrClosed) {
				return
			}
			// A temporary failure, such as running out of file descriptors.
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			time.Sleep(pause)
			continue
		}
		pause = 0
		server, err := net.DialTimeout("tcp", p.target, dialTimeout)
		if err != nil {
			// The target refuses: so does the proxy, with a reset.
			reset(client)
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			client.Close()
			server.Close()
			return
		}
		p.lastSeq++
		c := &Conn{
			p:       p,
			seq:     p.lastSeq,
			client:  client.(*net.TCPConn),
			server:  server.(*net.TCPConn),
			faults:  p.faults,
			changed: make(chan struct{}),
			done:    make(chan struct{}),
		}
		p.conns[c] = struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		if p.onConn != nil {
			p.onConn(c)
		}
		go c.forward(Upstream, c.client, c.server)
		go c.forward(Downstream, c.server, c.client)
	}
}

func (p *Proxy) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

func (p *Proxy) forget(c *Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// reset closes conn with an RST instead of a FIN.
func reset(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}
