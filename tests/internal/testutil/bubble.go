package testutil

import (
	"context"
	"net"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
)

// Bubble runs f in a synctest bubble: time is virtual and moves only when
// every goroutine of the bubble is blocked, so a timeout can be asserted
// exactly. A socket blocks outside the bubble: the ends talk over Pipes.
// Everything f starts must have ended when it returns; the helpers of the
// suites close what they open in cleanups, which run in the bubble.
//
// base keeps the call of a finished request in a sync.Pool, and a call
// holds a channel: one made in a bubble must not be used outside it, and
// a caller waiting on one made outside cannot let virtual time move on.
// Bubble therefore empties the pools before and after f (two garbage
// collections drop all that a sync.Pool holds), and a test that uses it
// must not run in parallel with tests that send requests.
func Bubble(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	emptyPools()
	defer emptyPools()
	synctest.Test(t, f)
}

// emptyPools drops what every sync.Pool holds: a collection moves a pool's
// items to its victim cache, and the next drops them.
func emptyPools() {
	runtime.GC()
	runtime.GC()
}

// Pipes is a net.Listener whose connections are in-memory pipes
// (net.Pipe), made by its Dial: a client takes Dial as its dialer (see
// base.WithDialer), and a raw peer calls it. Made in a synctest bubble,
// its pipes block durably and their deadlines run on virtual time. A
// pipe has no buffer: a write waits until the other end reads it.
type Pipes struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

// NewPipes returns a listener that accepts until it is closed.
func NewPipes() *Pipes {
	return &Pipes{conns: make(chan net.Conn), done: make(chan struct{})}
}

// Accept waits for a Dial and returns the listener's end of its pipe.
func (l *Pipes) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops Accept, and Dial fails from then on.
func (l *Pipes) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr returns the address of the pipes, "pipe".
func (l *Pipes) Addr() net.Addr { return pipeAddr{} }

// Dial makes a pipe and waits until the listener accepts it; it returns
// the dialling end. Once the listener is closed it fails with an error
// wrapping net.ErrClosed. The network and address are ignored.
func (l *Pipes) Dial(ctx context.Context, _, _ string) (net.Conn, error) {
	a, b := net.Pipe()
	select {
	case l.conns <- b:
		return a, nil
	case <-l.done:
		a.Close()
		b.Close()
		return nil, &net.OpError{Op: "dial", Net: "pipe", Err: net.ErrClosed}
	case <-ctx.Done():
		a.Close()
		b.Close()
		return nil, ctx.Err()
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }
