package netmessage

import (
	"context"
	"reflect"
	"testing"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/serializers/msgpack"
)

// BenchmarkLookup measures the per-call lookups of the typed layer, from
// parallel goroutines as on a busy connection: a request type's ids and
// pooled state on the caller's end (callTypeOf: one lookup for both ids),
// one type's id (registry.id, which Send and the interceptors' path use),
// and a received request's handler by the id on the wire.
func BenchmarkLookup(b *testing.B) {
	m, err := NewMux(WithSerializer(msgpack.New()))
	if err != nil {
		b.Fatal(err)
	}
	if err := HandleRequest(m, func(context.Context, *base.Session, dispatchCall) (dispatchReply, error) {
		return dispatchReply{}, nil
	}); err != nil {
		b.Fatal(err)
	}
	id, err := m.types.id(reflect.TypeFor[dispatchCall]())
	if err != nil {
		b.Fatal(err)
	}
	wire := []byte(id)
	b.Run("callTypeOf", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := callTypeOf[dispatchCall](m); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("registry.id", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := m.types.id(reflect.TypeFor[dispatchReply]()); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("handler", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if m.handlers.Load().requests[string(wire)] == nil {
					b.Error("no handler")
					return
				}
			}
		})
	})
}
