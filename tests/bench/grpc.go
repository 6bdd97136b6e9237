package bench

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/netmessage-go/netmessage/serializers/msgpack"
)

// GRPC returns the contender that uses gRPC-Go with unary calls, and a
// client stream for one-way messages. No protobuf compiler is involved: the
// service description is written by hand and the codec is the msgpack
// serializer netmessage/msgpack uses, so the two differ in the transport
// alone. Every gRPC setting keeps its default.
func GRPC() Contender {
	return Contender{
		Name:  "grpc",
		Note:  "gRPC-Go unary calls (client stream for one-way), msgpack codec, default options",
		Serve: serveGRPC,
		Dial:  dialGRPC,
	}
}

// grpcHandler is the interface the service description names as its
// handler type.
type grpcHandler interface{ count() }

var grpcService = grpc.ServiceDesc{
	ServiceName: "bench.Echo",
	HandlerType: (*grpcHandler)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Call",
		Handler: func(_ any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			p := new(Packet)
			if err := dec(p); err != nil {
				return nil, err
			}
			return p, nil // the answer is the request
		},
	}},
	Streams: []grpc.StreamDesc{{
		StreamName:    "Push",
		ClientStreams: true,
		Handler: func(srv any, stream grpc.ServerStream) error {
			h := srv.(grpcHandler)
			var p Packet
			for {
				if err := stream.RecvMsg(&p); err != nil {
					if errors.Is(err, io.EOF) {
						return stream.SendMsg(&Packet{})
					}
					return err
				}
				h.count()
			}
		},
	}},
}

const (
	grpcCallMethod = "/bench.Echo/Call"
	grpcPushMethod = "/bench.Echo/Push"
)

type grpcServer struct {
	srv      *grpc.Server
	received atomic.Int64
	served   chan error
}

func (s *grpcServer) count() { s.received.Add(1) }

func serveGRPC(ln net.Listener) (Server, error) { return serveGRPCWith(ln) }

// serveGRPCWith is serveGRPC with more server options.
func serveGRPCWith(ln net.Listener, opts ...grpc.ServerOption) (Server, error) {
	opts = append([]grpc.ServerOption{grpc.ForceServerCodec(msgpack.New())}, opts...)
	s := &grpcServer{srv: grpc.NewServer(opts...), served: make(chan error, 1)}
	s.srv.RegisterService(&grpcService, s)
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

func (s *grpcServer) Received() int64 { return s.received.Load() }

func (s *grpcServer) Close() error {
	s.srv.Stop()
	return <-s.served
}

type grpcClient struct {
	cc *grpc.ClientConn

	mu   sync.Mutex // serialises one-way sends on the one stream
	push grpc.ClientStream
	stop context.CancelFunc
}

func dialGRPC(ctx context.Context, addr string) (Client, error) { return dialGRPCWith(ctx, addr) }

// dialGRPCWith is dialGRPC with more dial options.
func dialGRPCWith(ctx context.Context, addr string, opts ...grpc.DialOption) (Client, error) {
	opts = append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(msgpack.New())),
	}, opts...)
	cc, err := grpc.NewClient("passthrough:///"+addr, opts...)
	if err != nil {
		return nil, err
	}
	cc.Connect()
	for st := cc.GetState(); st != connectivity.Ready; st = cc.GetState() {
		if !cc.WaitForStateChange(ctx, st) {
			cc.Close()
			return nil, ctx.Err()
		}
	}
	return &grpcClient{cc: cc}, nil
}

func (c *grpcClient) Call(ctx context.Context, size Size) error {
	var resp Packet
	want := &packets[size]
	if err := c.cc.Invoke(ctx, grpcCallMethod, want, &resp); err != nil {
		return err
	}
	return check(&resp, want)
}

func (c *grpcClient) Send(_ context.Context, size Size) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.push == nil {
		ctx, cancel := context.WithCancel(context.Background())
		push, err := c.cc.NewStream(ctx, &grpcService.Streams[0], grpcPushMethod)
		if err != nil {
			cancel()
			return err
		}
		c.push, c.stop = push, cancel
	}
	return c.push.SendMsg(&packets[size])
}

func (c *grpcClient) Close() error {
	c.mu.Lock()
	if c.push != nil {
		var ack Packet
		if c.push.CloseSend() == nil {
			_ = c.push.RecvMsg(&ack)
		}
		c.stop()
	}
	c.mu.Unlock()
	return c.cc.Close()
}
