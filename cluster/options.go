package cluster

import (
	"fmt"
	"time"

	"github.com/netmessage-go/netmessage/netmessage"
)

// Option configures a Node.
type Option interface{ apply(*config) }

type option func(*config)

func (o option) apply(c *config) { o(c) }

type config struct {
	name        string
	cluster     string
	ser         netmessage.Serializer
	heartbeat   time.Duration
	timeout     time.Duration
	maxPacket   int
	queue       int
	maxRequests int
	maxBacklog  int
	onError     func(error)
	err         error
}

func defaultConfig() config {
	return config{
		cluster:     "default",
		heartbeat:   time.Second,
		timeout:     10 * time.Second,
		maxPacket:   1 << 20,
		queue:       1 << 16,
		maxRequests: 1024,
		maxBacklog:  1 << 20,
	}
}

func (c *config) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%w: "+format, append([]any{ErrBadOption}, args...)...)
	}
}

// WithName names the node in presence (default: a random hex id). Names
// are for people; two nodes with one name are still two nodes.
func WithName(name string) Option {
	return option(func(c *config) {
		if name == "" || len(name) > MaxKeyLen {
			c.fail("name %q must have 1 to %d bytes", name, MaxKeyLen)
		}
		c.name = name
	})
}

// WithClusterName sets the cluster's name (default "default"): nodes
// with different names share no subjects, so several clusters can use
// one NATS system. It must be ASCII letters, digits, '-' or '_'.
func WithClusterName(name string) Option {
	return option(func(c *config) {
		if !validToken(name) {
			c.fail("cluster name %q must be letters, digits, '-' or '_'", name)
		}
		c.cluster = name
	})
}

// WithHeartbeat sets how often the node announces itself to the cluster
// (default 1 s, minimum 10 ms). A node not heard from for two of its
// intervals leaves presence; its heartbeats tell the others its interval,
// so nodes with different intervals can share a cluster.
func WithHeartbeat(d time.Duration) Option {
	return option(func(c *config) {
		if d < 10*time.Millisecond {
			c.fail("heartbeat %v is under 10ms", d)
		}
		c.heartbeat = d
	})
}

// WithRequestTimeout sets how long Request waits for a response when its
// context has no earlier deadline (default 10 s). A session of another
// server is given at most 24 h to answer.
func WithRequestTimeout(d time.Duration) Option {
	return option(func(c *config) {
		if d <= 0 {
			c.fail("request timeout %v is not positive", d)
		}
		c.timeout = d
	})
}

// WithMaxPacketSize bounds the packets the node sends and accepts on its
// subjects (default 1 MiB, also bounded by the NATS server's max_payload).
func WithMaxPacketSize(n int) Option {
	return option(func(c *config) {
		if n < 64 {
			c.fail("max packet size %d is under 64", n)
		}
		c.maxPacket = n
	})
}

// WithQueueSize bounds the packets received from NATS and not yet
// delivered to sessions (default 65536). When it is full, NATS drops
// further packets and reports a slow consumer to the connection's error
// handler.
func WithQueueSize(n int) Option {
	return option(func(c *config) {
		if n < 1 {
			c.fail("queue size %d is under 1", n)
		}
		c.queue = n
	})
}

// WithMaxConcurrentRequests bounds the requests from other servers that
// sessions of this server answer at a time (default 1024); more are
// answered at once with an error.
func WithMaxConcurrentRequests(n int) Option {
	return option(func(c *config) {
		if n < 1 {
			c.fail("max concurrent requests %d is under 1", n)
		}
		c.maxRequests = n
	})
}

// WithMaxBacklog bounds the bytes held for one session of this server
// whose write buffer is full, from other servers (default 1 MiB). Beyond
// it, messages for that session are dropped, each with an error event
// matching base.ErrWriteBufferFull; the other sessions are not held up.
func WithMaxBacklog(n int) Option {
	return option(func(c *config) {
		if n < 0 {
			c.fail("max backlog %d is negative", n)
		}
		c.maxBacklog = n
	})
}

// OnError sets the hook for error events: packets dropped because they
// were malformed, too large or could not be queued on a slow session
// (each a *PacketError), and failures to subscribe or publish. Hooks run
// one at a time on a goroutine of their own; when they fall 256 events
// behind, further events are dropped. A panic in f is recovered.
func OnError(f func(err error)) Option {
	return option(func(c *config) { c.onError = f })
}
