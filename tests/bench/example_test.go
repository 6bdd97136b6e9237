package bench_test

import (
	"fmt"

	"github.com/netmessage-go/netmessage/tests/bench"
)

// The contender with generated msgpack methods is one of the suite's, and
// can be run alone: go run ./cmd/bench -contenders floor,netmessage/msgpack-gen.
func ExampleGenerated() {
	c := bench.Generated()
	_, listed := bench.Lookup(c.Name)
	fmt.Println(c.Name, listed)
	// Output:
	// netmessage/msgpack-gen true
}
