package cluster_test

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// holdProxy forwards TCP connections to a NATS server; while held, what
// the server sends to its clients waits in the proxy, so that a client's
// flush takes until its timeout.
type holdProxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	held    bool
	closed  bool
	release chan struct{}
	conns   []net.Conn
	wg      sync.WaitGroup
}

func startHoldProxy(t testing.TB, target string) *holdProxy {
	t.Helper()
	p := &holdProxy{ln: listen(t), target: target, release: make(chan struct{})}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

// url is the address clients connect to.
func (p *holdProxy) url() string { return "nats://" + p.ln.Addr().String() }

func (p *holdProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.closed { // accepted as the proxy closed
			p.mu.Unlock()
			c.Close()
			s.Close()
			return
		}
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.wg.Go(func() { io.Copy(s, c); s.Close() })
		p.wg.Go(func() { p.down(c, s); c.Close() })
	}
}

// down copies from the server to the client, waiting while held.
func (p *holdProxy) down(c, s net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		k, err := s.Read(buf)
		if k > 0 {
			p.mu.Lock()
			wait := p.release
			if !p.held {
				wait = nil
			}
			p.mu.Unlock()
			if wait != nil {
				<-wait
			}
			if _, err := c.Write(buf[:k]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *holdProxy) hold() {
	p.mu.Lock()
	p.held = true
	p.mu.Unlock()
}

func (p *holdProxy) unhold() {
	p.mu.Lock()
	if p.held {
		p.held = false
		close(p.release)
		p.release = make(chan struct{})
	}
	p.mu.Unlock()
}

func (p *holdProxy) close() {
	p.unhold()
	p.ln.Close()
	p.mu.Lock()
	p.closed = true
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// A closing node sends nothing on the presence subject after its
// goodbye, even when NATS is slow to answer the flush that follows it:
// a heartbeat after the goodbye would list the closed node again.
func TestNoHeartbeatAfterGoodbye(t *testing.T) {
	ns := startNATS(t, 0)
	proxy := startHoldProxy(t, ns.Addr().String())
	b := startNode(t, proxy.url(), "b")
	raw := connectNATS(t, ns.ClientURL())
	pres, err := raw.SubscribeSync("netmessage.default.p")
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Flush(); err != nil {
		t.Fatal(err)
	}

	// Close flushes for up to a heartbeat interval after its goodbye:
	// with the answer held, a heartbeat falls due meanwhile.
	proxy.hold()
	b.node.Close()
	proxy.unhold()
	if err := b.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := raw.Flush(); err != nil {
		t.Fatal(err)
	}

	var bye []byte // the node's id, from its goodbye
	for {
		m, err := pres.NextMsg(100 * time.Millisecond)
		if err != nil {
			break
		}
		if len(m.Data) < 9 {
			continue
		}
		switch {
		case m.Data[0] == 0x13:
			bye = m.Data[1:9]
		case bye != nil && bytes.Equal(m.Data[1:9], bye):
			t.Fatalf("presence packet of kind %#x after the goodbye", m.Data[0])
		}
	}
	if bye == nil {
		t.Fatal("no goodbye")
	}
}
