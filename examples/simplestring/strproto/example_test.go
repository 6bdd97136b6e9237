package strproto_test

import (
	"errors"
	"fmt"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/examples/simplestring/strproto"
)

// The bytes of a request and a heartbeat, decoded back; and a payload the
// protocol cannot carry.
func Example() {
	p := strproto.New()
	wire, err := p.Append(nil, base.Packet{Kind: base.KindRequest, ID: 7, Payload: []byte("grüße")})
	if err != nil {
		fmt.Println(err)
		return
	}
	wire = append(wire, p.Heartbeat()...)
	fmt.Printf("wire: %q\n", wire)

	for len(wire) > 0 {
		pkt, n, err := p.Decode(wire, 1024)
		if err != nil || n == 0 {
			fmt.Println("decode:", n, err)
			return
		}
		fmt.Printf("%s %d %q\n", pkt.Kind, pkt.ID, pkt.Payload)
		wire = wire[n:]
	}

	_, err = p.Append(nil, base.Packet{Kind: base.KindMessage, Payload: []byte("end\x04")})
	fmt.Println(errors.Is(err, strproto.ErrTerminator), err)
	// Output:
	// wire: "Q7:grüße\x04\x04"
	// request 7 "grüße"
	// none 0 ""
	// true strproto: payload contains the terminator byte 0x04 (at byte 3 of 4)
}
