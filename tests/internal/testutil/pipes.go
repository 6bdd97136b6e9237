package testutil

import (
	"context"
	"net"
	"sync"
)

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
