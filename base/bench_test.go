package base_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// The benchmarks and the allocation test run a server and a client in
// this process over loopback TCP. Allocation counts are the whole
// process's, both ends together; the handler answers with a prepared
// payload and the caller receives into its own buffer (RequestAppend), so
// whatever is counted is the transport's.

// benchPair is a connected server and client whose server answers each
// request with resp and counts messages.
type benchPair struct {
	srv      *base.Server
	client   *base.Client
	sess     *base.Session // the client's
	received atomic.Int64
	signal   chan struct{} // receives a value per message when armed
	armed    atomic.Bool
}

func newBenchPair(tb testing.TB, resp []byte) *benchPair {
	tb.Helper()
	p := &benchPair{signal: make(chan struct{}, 1)}
	p.srv = base.NewServer(native.New,
		base.OnRequest(func(context.Context, *base.Session, []byte) []byte { return resp }),
		base.OnMessage(func(context.Context, *base.Session, []byte) {
			p.received.Add(1)
			if p.armed.Load() {
				p.signal <- struct{}{}
			}
		}),
	)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- p.srv.Serve(ln) }()
	p.client = base.NewClient(native.New)
	if err := p.client.Connect(context.Background(), ln.Addr().String()); err != nil {
		tb.Fatal(err)
	}
	p.sess = p.client.Session()
	tb.Cleanup(func() {
		p.client.Close()
		<-p.sess.Done()
		p.srv.Close()
		if err := <-served; !errors.Is(err, base.ErrServerClosed) {
			tb.Errorf("Serve: %v", err)
		}
		for _, s := range p.srv.Sessions() {
			<-s.Done()
		}
	})
	return p
}

// waitReceived waits until the server has received n messages.
func (p *benchPair) waitReceived(tb testing.TB, n int64) {
	tb.Helper()
	deadline := time.Now().Add(waitTime)
	for p.received.Load() < n {
		if time.Now().After(deadline) {
			tb.Fatalf("server received %d of %d messages", p.received.Load(), n)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

var benchSizes = []int{100, 16 << 10}

// BenchmarkRequest measures one request at a time: a round trip.
func BenchmarkRequest(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			payload := make([]byte, size)
			p := newBenchPair(b, payload)
			ctx := context.Background()
			buf := make([]byte, 0, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = p.sess.RequestAppend(ctx, buf[:0], payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRequestParallel measures concurrent requests on one connection.
func BenchmarkRequestParallel(b *testing.B) {
	cancelable, cancel := context.WithCancel(context.Background())
	defer cancel()
	deadline, cancel2 := context.WithTimeout(context.Background(), time.Hour)
	defer cancel2()
	for _, c := range []struct {
		name string
		ctx  context.Context
	}{{"", context.Background()}, {"cancelable/", cancelable}, {"deadline/", deadline}} {
		for _, size := range benchSizes {
			b.Run(fmt.Sprintf("%s%dB", c.name, size), func(b *testing.B) {
				payload := make([]byte, size)
				p := newBenchPair(b, payload)
				b.SetBytes(int64(size))
				b.SetParallelism(16)
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					buf := make([]byte, 0, size)
					for pb.Next() {
						var err error
						if buf, err = p.sess.RequestAppend(c.ctx, buf[:0], payload); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

func BenchmarkMessage(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			payload := make([]byte, size)
			p := newBenchPair(b, nil)
			ctx := context.Background()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			var n int64
			for b.Loop() {
				if err := p.sess.SendMessage(ctx, payload); err != nil {
					b.Fatal(err)
				}
				n++
			}
			p.waitReceived(b, n)
		})
	}
}

// TestAllocsPerPacket checks that the transport allocates nothing per
// packet once warm: a request with its response (four packets' worth of
// work: encode, write, read and decode each way, the handler goroutine, the
// hand-over to the caller) and a message from send to hook.
func TestAllocsPerPacket(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop entries at random")
	}
	for _, size := range benchSizes {
		t.Run(fmt.Sprintf("%dB", size), func(t *testing.T) {
			payload := make([]byte, size)
			p := newBenchPair(t, payload)
			ctx := context.Background()
			buf := make([]byte, 0, size)
			var err error
			request := func() {
				if buf, err = p.sess.RequestAppend(ctx, buf[:0], payload); err != nil {
					t.Fatal(err)
				}
			}
			for range 100 {
				request() // warm the pools
			}
			if n := testing.AllocsPerRun(1000, request); n != 0 {
				t.Errorf("request: %v allocations per round trip, want 0", n)
			}

			p.armed.Store(true)
			message := func() {
				if err := p.sess.SendMessage(ctx, payload); err != nil {
					t.Fatal(err)
				}
				<-p.signal
			}
			for range 100 {
				message()
			}
			if n := testing.AllocsPerRun(1000, message); n != 0 {
				t.Errorf("message: %v allocations per message, want 0", n)
			}
		})
	}
}
