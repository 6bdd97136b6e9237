package genpacket_test

import (
	"fmt"

	"github.com/netmessage-go/netmessage/serializers/msgpack"
	"github.com/netmessage-go/netmessage/tests/bench/genpacket"
)

// The msgpack serializer encodes a Call with its generated methods; a
// reflective peer's struct with the same fields reads it.
func ExampleCall() {
	s := msgpack.New()
	data, err := s.Marshal(genpacket.Call{Packet: genpacket.Packet{ID: 7, Method: "Echo", Tags: []string{"a"}}})
	if err != nil {
		panic(err)
	}
	var peer struct {
		ID     uint64
		Method string
		Tags   []string
		Data   []byte
	}
	if err := s.Unmarshal(data, &peer); err != nil {
		panic(err)
	}
	fmt.Println(peer.ID, peer.Method, peer.Tags, peer.Data == nil)
	// Output:
	// 7 Echo [a] true
}
