package msgpack

import (
	"reflect"

	"github.com/netmessage-go/netmessage/serializers/internal/check"
	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
)

// Bound is the serializer's decoded-size bound for sertest.RunBounded; its
// estimate includes the fixed heap of a call.
var Bound = sertest.Bound{
	Limit: func(n int) uint64 { return uint64(check.Limit(n, fixedHeap)) },
	Estimate: func(data []byte, v any) int64 {
		cost, _ := scan(data, planFor(reflect.TypeOf(v).Elem()), genFor(reflect.TypeOf(v).Elem()).unmarshal)
		return cost + fixedHeap
	},
}

// MaxDepth is the nesting limit.
const MaxDepth = maxDepth
