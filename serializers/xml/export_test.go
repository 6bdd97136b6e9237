package xml

import (
	"reflect"

	"github.com/netmessage-go/netmessage/serializers/internal/check"
	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
)

// Bound is the serializer's decoded-size bound for sertest.RunBounded; its
// estimate includes the fixed heap of a call.
var Bound = sertest.Bound{
	Limit: func(n int) uint64 { return uint64(check.LimitPer(n, perByte, fixedHeap)) },
	Estimate: func(data []byte, v any) int64 {
		t := reflect.TypeOf(v).Elem()
		ptr := t.Kind() == reflect.Pointer
		if ptr {
			t = t.Elem()
		}
		cost, _ := estimate(data, t, ptr)
		if raceEnabled {
			cost += 2 * check.Alloc(2*int64(len(data)))
		}
		return cost + fixedHeap
	},
}

// MaxDepth is the nesting limit.
const MaxDepth = maxDepth
