package genpacket

import "github.com/netmessage-go/netmessage/netmessage"

//go:generate go run github.com/tinylib/msgp@v1.6.5 -file packet.go -o packet_gen.go -tests=false -io=false

//msgp:tag msgpack
//msgp:newtime

// Packet has the fields of bench.Packet, which converts to it.
type Packet struct {
	ID     uint64
	Method string
	Seq    uint32
	OK     bool
	Score  float64
	Tags   []string `msgpack:",allownil"`
	Data   []byte   `msgpack:",allownil"`
}

// Call is a request answered by a Reply.
type Call struct {
	netmessage.Returns[Reply] `msgpack:"-"`
	Packet                    `msgpack:",flatten"`
}

// Reply answers a Call.
type Reply struct {
	Packet `msgpack:",flatten"`
}

// Note is a one-way message.
type Note struct {
	Packet `msgpack:",flatten"`
}
