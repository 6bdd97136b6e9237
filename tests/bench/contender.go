package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
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

	// heartbeat is the interval at which idle connections send heartbeats
	// (0: they send none), and withHeartbeat, if not nil, builds the
	// contender again with another interval.
	heartbeat     time.Duration
	withHeartbeat func(interval time.Duration) Contender
}

// Heartbeat returns the interval at which the contender's idle connections
// send heartbeats, or 0 if they send none (net/rpc, gRPC).
func (c Contender) Heartbeat() time.Duration { return c.heartbeat }

// WithHeartbeat returns c with heartbeats every interval on both ends and
// a receive timeout of 2.5 intervals, the proportion of base's defaults
// (2 s and 5 s). A contender without heartbeats of its own, or an interval
// <= 0, leaves c as it is.
func (c Contender) WithHeartbeat(interval time.Duration) Contender {
	if c.withHeartbeat == nil || interval <= 0 {
		return c
	}
	return c.withHeartbeat(interval)
}

// receiveTimeout returns how long a connection with the given heartbeat
// interval may receive nothing before it gives up on its peer: 2.5
// intervals, as base.DefaultReceiveTimeout is for
// base.DefaultHeartbeatInterval.
func receiveTimeout(interval time.Duration) time.Duration {
	return interval * 5 / 2
}

// heartbeatNote is the addition to a contender's Note when its heartbeat
// interval is not the default one.
func heartbeatNote(interval, def time.Duration) string {
	if interval == def {
		return ""
	}
	return fmt.Sprintf("; heartbeat every %s, receive timeout %s", seconds(interval), seconds(receiveTimeout(interval)))
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
		Generated(),
		Typed("copy"),
		Intercepted(),
		Observed(true),
		Observed(false),
		Typed("json"),
		Typed("xml"),
		NetRPC(),
		GRPC(),
		GRPCObserved(),
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
