package native_test

import (
	"fmt"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// ExampleProtocol shows the frames one end writes and the other decodes:
// the preface (the magic "NMGO" and the version), a request with call
// information and a heartbeat. A connection does this itself; a Protocol
// is used directly only to test or inspect the wire format.
func ExampleProtocol() {
	out := native.New().(base.CallInfoProtocol)
	in := native.New().(base.CallInfoProtocol)

	wire := append([]byte(nil), out.Preface()...)
	wire, err := out.AppendInfo(wire,
		base.Packet{Kind: base.KindRequest, ID: 7, Payload: []byte("hello")},
		&base.CallInfo{Meta: base.Metadata{"tenant": "blue"}, Timeout: 2 * time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	wire = append(wire, out.Heartbeat()...)

	for len(wire) > 0 {
		pkt, n, err := in.Decode(wire, 1<<20)
		if err != nil || n == 0 {
			fmt.Println("decode:", n, err)
			return
		}
		frame := wire[:n]
		wire = wire[n:]
		if pkt.Kind == base.KindNone {
			fmt.Printf("no packet: % x\n", frame)
			continue
		}
		info := in.Info()
		fmt.Printf("%v %d %q tenant=%s timeout=%v\n",
			pkt.Kind, pkt.ID, pkt.Payload, info.Meta["tenant"], info.Timeout)
	}
	// Output:
	// no packet: 4e 4d 47 4f 02
	// request 7 "hello" tenant=blue timeout=2s
	// no packet: 00
}
