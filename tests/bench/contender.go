package bench

import (
	"context"
	"errors"
	"net"
)

// Contender is one way of making calls, measured against the others.
type Contender struct {
	// Name identifies the contender in reports and on the command line.
	Name string
	// Note says in a few words what it is.
	Note string
	// Serve starts a server on ln. The server owns ln.
	Serve func(ln net.Listener) (Server, error)
	// Dial opens one client connection to the server at addr.
	Dial func(ctx context.Context, addr string) (Client, error)
}

// Server is a contender's running server. It answers each request with an
// equal response and counts one-way messages.
type Server interface {
	// Received returns the number of one-way messages received so far.
	Received() int64
	// Close stops the server and closes its connections.
	Close() error
}

// Client is one connection to a contender's server. Call and Send are safe
// for concurrent use.
type Client interface {
	// Call sends a request of the given size, waits for the response and
	// checks it.
	Call(ctx context.Context, size Size) error
	// Send sends a one-way message of the given size. A contender without
	// one-way messages returns ErrUnsupported.
	Send(ctx context.Context, size Size) error
	// Close closes the connection.
	Close() error
}

// ErrUnsupported is returned by Client.Send of contenders that have no
// one-way messages.
var ErrUnsupported = errors.ErrUnsupported

// Contenders returns every contender, the floor first.
func Contenders() []Contender {
	return []Contender{
		Floor(),
		Base(),
		BaseRequest(),
		Typed("msgpack"),
		Typed("json"),
		Typed("xml"),
		NetRPC(),
		GRPC(),
	}
}

// Lookup returns the contender with the given name.
func Lookup(name string) (Contender, bool) {
	for _, c := range Contenders() {
		if c.Name == name {
			return c, true
		}
	}
	return Contender{}, false
}
