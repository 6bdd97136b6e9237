package netmessage_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
)

// benchPacket is a request and its answer: a few small fields, about 100
// bytes in msgpack, like the packets of tests/bench.
type benchPacket struct {
	ID     uint64
	Method string
	Seq    uint32
	OK     bool
	Score  float64
	Tags   []string
	Data   []byte
}

type benchCall struct {
	netmessage.Returns[benchReply]
	benchPacket
}

type benchReply struct{ benchPacket }

type benchNote struct{ benchPacket }

var benchSmall = benchPacket{
	ID: 0x1234567, Method: "Catalogue.Lookup", Seq: 42, OK: true, Score: 0.75,
	Tags: []string{"alpha", "beta", "gamma"},
}

var benchLarge = func() benchPacket {
	p := benchSmall
	p.Data = make([]byte, 16<<10)
	for i := range p.Data {
		p.Data[i] = 'a' + byte(i%26)
	}
	return p
}()

// benchPair returns a client connected to a typed server over loopback
// that echoes benchCall and, for a benchNote with Seq 0, closes last.
func benchPair(b *testing.B, last chan<- struct{}, opts ...netmessage.Option) *base.Client {
	b.Helper()
	// One Mux serves both ends: the client receives nothing.
	m, err := netmessage.NewMux(opts...)
	if err != nil {
		b.Fatal(err)
	}
	srv := netmessage.NewServer(m)
	err = errors.Join(
		netmessage.HandleRequest(m, func(_ context.Context, _ *base.Session, req benchCall) (benchReply, error) {
			return benchReply{req.benchPacket}, nil
		}),
		netmessage.HandleMessage(m, func(_ context.Context, _ *base.Session, n benchNote) {
			if n.Seq == 0 {
				close(last)
			}
		}),
	)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); srv.Serve(ln) }()
	c := netmessage.NewClient(m)
	b.Cleanup(func() {
		c.Close()
		srv.Close()
		wg.Wait()
	})
	if err := c.Connect(context.Background(), ln.Addr().String()); err != nil {
		b.Fatal(err)
	}
	return c
}

func benchRequest(b *testing.B, c *base.Client, want *benchPacket) {
	resp, err := netmessage.Request(context.Background(), c, benchCall{benchPacket: *want})
	if err != nil {
		b.Fatal(err)
	}
	if resp.ID != want.ID || len(resp.Data) != len(want.Data) {
		b.Fatalf("wrong answer: %+v", resp)
	}
}

// benchSizes are the packets each request benchmark sends.
var benchSizes = []struct {
	name string
	p    *benchPacket
}{{"small", &benchSmall}, {"16KiB", &benchLarge}}

// BenchmarkRequest measures typed requests one at a time; allocations
// count both ends.
func BenchmarkRequest(b *testing.B) {
	for _, bc := range benchSizes {
		b.Run(bc.name, func(b *testing.B) {
			c := benchPair(b, nil)
			b.ReportAllocs()
			for b.Loop() {
				benchRequest(b, c, bc.p)
			}
		})
	}
}

// BenchmarkRequestParallel measures typed requests from 64 callers per
// core on one connection.
func BenchmarkRequestParallel(b *testing.B) { benchParallel(b) }

// noop is an interceptor that only carries the call on.
func noop(ctx context.Context, _ netmessage.Call, v any, next netmessage.Invoker) (any, error) {
	return next(ctx, v)
}

// BenchmarkRequestIntercepted is BenchmarkRequest with a no-op inbound
// and outbound interceptor on each end.
func BenchmarkRequestIntercepted(b *testing.B) {
	for _, bc := range benchSizes {
		b.Run(bc.name, func(b *testing.B) {
			c := benchPair(b, nil, netmessage.WithInbound(noop), netmessage.WithOutbound(noop))
			b.ReportAllocs()
			for b.Loop() {
				benchRequest(b, c, bc.p)
			}
		})
	}
}

// BenchmarkRequestParallelIntercepted is BenchmarkRequestParallel with a
// no-op inbound and outbound interceptor on each end.
func BenchmarkRequestParallelIntercepted(b *testing.B) {
	benchParallel(b, netmessage.WithInbound(noop), netmessage.WithOutbound(noop))
}

func benchParallel(b *testing.B, opts ...netmessage.Option) {
	for _, bc := range benchSizes {
		b.Run(bc.name, func(b *testing.B) {
			c := benchPair(b, nil, opts...)
			b.ReportAllocs()
			b.SetParallelism(64)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					benchRequest(b, c, bc.p)
				}
			})
		})
	}
}

// BenchmarkSend measures one-way typed messages until the server's
// handler has received the last.
func BenchmarkSend(b *testing.B) {
	last := make(chan struct{})
	c := benchPair(b, last)
	ctx := context.Background()
	msg := benchNote{benchSmall}
	b.ReportAllocs()
	for b.Loop() {
		if err := netmessage.Send(ctx, c, msg); err != nil {
			b.Fatal(err)
		}
	}
	if err := netmessage.Send(ctx, c, benchNote{}); err != nil {
		b.Fatal(err)
	}
	<-last
}
