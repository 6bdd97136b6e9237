package netmessage

import (
	"context"
	"testing"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/serializers/msgpack"
)

type dispatchReply struct {
	ID   uint64
	Tags []string
}

type dispatchCall struct {
	Returns[dispatchReply]
	ID   uint64
	Tags []string
}

func noopInterceptor(ctx context.Context, _ Call, v any, next Invoker) (any, error) {
	return next(ctx, v)
}

// BenchmarkDispatch measures the receiving end of a request without the
// network: decoding, the handler and encoding its answer, without and with
// a no-op inbound interceptor, so the interceptor path's own cost shows
// apart from the noise of a loopback round trip.
func BenchmarkDispatch(b *testing.B) {
	for _, bc := range []struct {
		name string
		ics  []Interceptor
	}{{"plain", nil}, {"noop", []Interceptor{noopInterceptor}}} {
		b.Run(bc.name, func(b *testing.B) {
			m, err := NewMux(WithSerializer(msgpack.New()), WithInbound(bc.ics...))
			if err != nil {
				b.Fatal(err)
			}
			s := loopSession(b, func(err error) { b.Error(err) })
			if err := HandleRequest(m, func(_ context.Context, _ *base.Session, q dispatchCall) (dispatchReply, error) {
				return dispatchReply{ID: q.ID, Tags: q.Tags}, nil
			}); err != nil {
				b.Fatal(err)
			}
			payload, err := m.appendValue(nil, dispatchCall{ID: 42, Tags: []string{"alpha", "beta"}})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if out := m.ServeRequest(ctx, s, payload); out[0] != statusOK {
					b.Fatalf("answer %q", out)
				}
			}
		})
	}
}
