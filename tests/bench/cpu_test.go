package bench

import (
	"context"
	"net"
	"runtime"
	"testing"
)

// BenchmarkCallCPU makes calls from 128 goroutines on one connection, with
// small and 16 KiB packets, and reports the CPU time of the process, both
// ends of each call together, per call (cpu-µs/op) beside the wall time:
// the floor, and the contenders that separate the transport, the typed
// layer (netmessage/copy, which does not serialize) and the serializer.
func BenchmarkCallCPU(b *testing.B) {
	for _, name := range []string{"floor", "base", "base/Request", "netmessage/copy", "netmessage/msgpack-gen", "netmessage/msgpack", "netmessage/msgpack+otel", "netmessage/msgpack+otel-nosample", "grpc", "grpc+otelgrpc"} {
		c, ok := Lookup(name)
		if !ok {
			b.Fatalf("no contender %s", name)
		}
		for _, size := range []Size{Small, Large} {
			b.Run(name+"/"+size.String(), func(b *testing.B) { callCPU(b, c, size) })
		}
	}
}

func callCPU(b *testing.B, c Contender, size Size) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv, err := c.Serve(ln)
	if err != nil {
		ln.Close()
		b.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cl, err := c.Dial(ctx, ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	b.SetParallelism(max(1, 128/runtime.GOMAXPROCS(0))) // 128 callers
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := cl.Call(ctx, size); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e3, "cpu-µs/op")
}

// BenchmarkCopy16KiB copies a 16 KiB payload into new memory, as decoding
// a 16 KiB byte slice does on each end of a typed call, and into a buffer
// used again, as the transport's copies do: the difference is what each
// decoded 16 KiB costs in a program with a small heap.
func BenchmarkCopy16KiB(b *testing.B) {
	src := packets[Large].Data
	b.Run("new", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		var dst []byte
		for b.Loop() {
			dst = append([]byte(nil), src...)
		}
		runtime.KeepAlive(dst)
	})
	b.Run("reused", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		dst := make([]byte, len(src))
		for b.Loop() {
			copy(dst, src)
		}
		runtime.KeepAlive(dst)
	})
}
