package bench

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/serializers/json"
	"github.com/netmessage-go/netmessage/serializers/msgpack"
	"github.com/netmessage-go/netmessage/serializers/xml"
)

// The typed contenders' packet types: a request answered by a reply, and a
// one-way note, each carrying a Packet.
type (
	nmCall struct {
		netmessage.Returns[nmReply]
		Packet
	}
	nmReply struct{ Packet }
	nmNote  struct{ Packet }
)

var serializers = map[string]netmessage.Serializer{
	"msgpack": msgpack.New(),
	"json":    json.New(),
	"xml":     xml.New(),
	"copy":    copySerializer{},
}

// Typed returns the contender that uses the typed netmessage API with the
// named serializer ("msgpack", "json" or "xml") over the native protocol;
// "copy" copies pre-encoded packets instead of serializing them, which
// leaves the typed layer's own cost (see copySerializer).
func Typed(serializer string) Contender {
	return typed(serializer, false, base.DefaultHeartbeatInterval)
}

// Intercepted returns Typed("msgpack") with a no-op inbound and a no-op
// outbound interceptor on each end: what the interceptor path costs.
func Intercepted() Contender {
	return typed("msgpack", true, base.DefaultHeartbeatInterval)
}

// noop is an interceptor that only calls on.
func noop(ctx context.Context, _ netmessage.Call, v any, next netmessage.Invoker) (any, error) {
	return next(ctx, v)
}

// typed returns Typed(serializer), or Intercepted() with intercepted set,
// with heartbeats every interval.
func typed(serializer string, intercepted bool, interval time.Duration) Contender {
	ser := serializers[serializer]
	opt := netmessage.WithTransport(base.WithHeartbeat(interval, receiveTimeout(interval)))
	name, note := "netmessage/"+serializer, "typed API, "+serializer+" serializer, native protocol, default options"
	if serializer == "copy" {
		note = "typed API, a serializer that copies pre-encoded packets (no reflection), native protocol, default options"
	}
	if intercepted {
		opt = netmessage.Combine(opt, netmessage.WithInbound(noop), netmessage.WithOutbound(noop))
		name, note = name+"+interceptors", note+", a no-op inbound and outbound interceptor on each end"
	}
	return Contender{
		Name:  name,
		Note:  note + heartbeatNote(interval, base.DefaultHeartbeatInterval),
		Serve: func(ln net.Listener) (Server, error) { return serveTyped(ln, ser, opt) },
		Dial: func(ctx context.Context, addr string) (Client, error) {
			return dialTyped(ctx, addr, ser, opt)
		},
		heartbeat: interval,
		withHeartbeat: func(interval time.Duration) Contender {
			return typed(serializer, intercepted, interval)
		},
	}
}

type typedServer struct {
	srv      *base.Server
	received atomic.Int64
	served   chan error
	mu       sync.Mutex
	sessions []*base.Session
}

func serveTyped(ln net.Listener, ser netmessage.Serializer, hb netmessage.Option) (Server, error) {
	return serveWith(ln, ser, hb, func(mux *netmessage.Mux, s *typedServer) error {
		return errors.Join(
			netmessage.HandleRequest(mux, func(_ context.Context, _ *base.Session, req nmCall) (nmReply, error) {
				return nmReply{req.Packet}, nil
			}),
			netmessage.HandleMessage(mux, func(context.Context, *base.Session, nmNote) { s.received.Add(1) }),
		)
	})
}

// serveWith starts a typed server on ln whose handlers register sets.
func serveWith(ln net.Listener, ser netmessage.Serializer, hb netmessage.Option,
	register func(*netmessage.Mux, *typedServer) error) (Server, error) {
	s := &typedServer{served: make(chan error, 1)}
	mux, err := netmessage.NewMux(netmessage.WithSerializer(ser), hb)
	if err != nil {
		return nil, err
	}
	if err := register(mux, s); err != nil {
		return nil, err
	}
	srv := netmessage.NewServer(mux,
		base.OnSessionOpened(func(ss *base.Session) {
			s.mu.Lock()
			s.sessions = append(s.sessions, ss)
			s.mu.Unlock()
		}),
	)
	s.srv = srv
	go func() { s.served <- srv.Serve(ln) }()
	return s, nil
}

func (s *typedServer) Received() int64 { return s.received.Load() }

func (s *typedServer) Close() error {
	s.srv.Close()
	err := <-s.served
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ss := range s.sessions {
		<-ss.Done()
	}
	if errors.Is(err, base.ErrServerClosed) {
		return nil
	}
	return err
}

type typedClient struct {
	c *base.Client
}

func dialTyped(ctx context.Context, addr string, ser netmessage.Serializer, hb netmessage.Option) (Client, error) {
	mux, err := netmessage.NewMux(netmessage.WithSerializer(ser), hb)
	if err != nil {
		return nil, err
	}
	c := netmessage.NewClient(mux)
	if err := c.Connect(ctx, addr); err != nil {
		return nil, err
	}
	return &typedClient{c: c}, nil
}

func (c *typedClient) Call(ctx context.Context, size Size) error {
	want := &packets[size]
	resp, err := netmessage.Request(ctx, c.c, nmCall{Packet: *want})
	if err != nil {
		return err
	}
	return check(&resp.Packet, want)
}

func (c *typedClient) Send(ctx context.Context, size Size) error {
	return netmessage.Send(ctx, c.c, nmNote{packets[size]})
}

func (c *typedClient) Close() error {
	c.c.Close()
	<-c.c.Session().Done()
	return nil
}
