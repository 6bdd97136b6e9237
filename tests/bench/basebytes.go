package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// Base returns the contender that uses the base transport alone with its
// native protocol and byte payloads: the transport's own cost. Calls go
// through Session.RequestAppend into pooled buffers, so the caller side
// allocates nothing.
func Base() Contender { return baseContender(true, base.DefaultHeartbeatInterval) }

// BaseRequest is Base with calls through Client.Request, which returns
// a fresh copy of each response.
func BaseRequest() Contender { return baseContender(false, base.DefaultHeartbeatInterval) }

// baseContender returns Base (appendTo) or BaseRequest with heartbeats
// every interval.
func baseContender(appendTo bool, interval time.Duration) Contender {
	name, note := "base", "base transport, native protocol, byte payloads, default options; Session.RequestAppend into pooled buffers"
	if !appendTo {
		name, note = "base/Request", "as base, calls through Client.Request (a new response slice per call)"
	}
	hb := base.WithHeartbeat(interval, receiveTimeout(interval))
	return Contender{
		Name: name,
		Note: note + heartbeatNote(interval, base.DefaultHeartbeatInterval),
		Serve: func(ln net.Listener) (Server, error) {
			return serveBase(ln, hb)
		},
		Dial: func(ctx context.Context, addr string) (Client, error) {
			return dialBase(ctx, addr, appendTo, hb)
		},
		heartbeat: interval,
		withHeartbeat: func(interval time.Duration) Contender {
			return baseContender(appendTo, interval)
		},
	}
}

type baseServer struct {
	srv      *base.Server
	received atomic.Int64
	served   chan error
	mu       sync.Mutex
	sessions []*base.Session
}

func serveBase(ln net.Listener, hb base.Option) (Server, error) {
	s := &baseServer{served: make(chan error, 1)}
	s.srv = base.NewServer(native.New,
		hb,
		base.OnSessionOpened(func(b *base.Session) {
			s.mu.Lock()
			s.sessions = append(s.sessions, b)
			s.mu.Unlock()
		}),
		// The answer is a payload of the request's size. The request's own
		// bytes are valid only during the call, so a prepared one is sent.
		base.OnRequest(func(_ context.Context, _ *base.Session, p []byte) []byte {
			if len(p) == rawSizes[Large] {
				return rawPayloads[Large]
			}
			return rawPayloads[Small]
		}),
		base.OnMessage(func(context.Context, *base.Session, []byte) { s.received.Add(1) }),
	)
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

func (s *baseServer) Received() int64 { return s.received.Load() }

func (s *baseServer) Close() error {
	s.srv.Close()
	err := <-s.served
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.sessions {
		<-b.Done()
	}
	if errors.Is(err, base.ErrServerClosed) {
		return nil
	}
	return err
}

type baseClient struct {
	c      *base.Client
	sess   *base.Session
	append bool
}

func dialBase(ctx context.Context, addr string, appendTo bool, hb base.Option) (Client, error) {
	c := base.NewClient(native.New, hb)
	if err := c.Connect(ctx, addr); err != nil {
		return nil, err
	}
	return &baseClient{c: c, sess: c.Session(), append: appendTo}, nil
}

// respBufs holds response buffers for RequestAppend.
var respBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func (c *baseClient) Call(ctx context.Context, size Size) error {
	var (
		resp []byte
		err  error
	)
	if c.append {
		bp := respBufs.Get().(*[]byte)
		resp, err = c.sess.RequestAppend(ctx, (*bp)[:0], rawPayloads[size])
		*bp = resp[:0]
		defer respBufs.Put(bp)
	} else {
		resp, err = c.c.Request(ctx, rawPayloads[size])
	}
	if err != nil {
		return err
	}
	if len(resp) != rawSizes[size] {
		return fmt.Errorf("base: %d-byte response to a %d-byte request", len(resp), rawSizes[size])
	}
	return nil
}

func (c *baseClient) Send(ctx context.Context, size Size) error {
	if c.append {
		return c.sess.SendMessage(ctx, rawPayloads[size])
	}
	return c.c.SendMessage(ctx, rawPayloads[size])
}

func (c *baseClient) Close() error {
	c.c.Close()
	<-c.c.Session().Done()
	return nil
}
