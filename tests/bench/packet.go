package bench

import (
	"fmt"

	"github.com/netmessage-go/netmessage/serializers/msgpack"
)

// Size selects the request and response of a workload.
type Size int

// The sizes: a small packet of a few fields (about 100 bytes encoded) and
// the same packet carrying a 16 KiB payload.
const (
	Small Size = iota
	Large
)

// String returns "small" or "16KiB".
func (s Size) String() string {
	if s == Large {
		return "16KiB"
	}
	return "small"
}

// LargeData is the payload size of the Large packet.
const LargeData = 16 << 10

// Packet is the request, the response and the one-way message of every
// typed contender. The server answers a request with an equal packet.
type Packet struct {
	ID     uint64   // a sample id
	Method string   // a sample method name
	Seq    uint32   // a sample sequence number
	OK     bool     // a sample flag
	Score  float64  // a sample fraction
	Tags   []string // a few sample strings
	Data   []byte   // nil for Small, LargeData bytes for Large
}

// NewPacket returns the packet of the given size. Packets are shared
// between goroutines and only read.
func NewPacket(size Size) Packet {
	p := Packet{
		ID:     0x1234567,
		Method: "Catalogue.Lookup",
		Seq:    42,
		OK:     true,
		Score:  0.75,
		Tags:   []string{"alpha", "beta", "gamma"},
	}
	if size == Large {
		// Printable ASCII, so that every serializer carries it as is.
		p.Data = make([]byte, LargeData)
		for i := range p.Data {
			p.Data[i] = 'a' + byte(i%26)
		}
	}
	return p
}

// check reports whether got answers want.
func check(got, want *Packet) error {
	if got.ID != want.ID || got.Seq != want.Seq || len(got.Data) != len(want.Data) || len(got.Tags) != len(want.Tags) {
		return fmt.Errorf("bench: wrong answer: id %d seq %d, %d data bytes; want id %d seq %d, %d bytes",
			got.ID, got.Seq, len(got.Data), want.ID, want.Seq, len(want.Data))
	}
	return nil
}

var packets = [2]Packet{NewPacket(Small), NewPacket(Large)}

// rawSizes are the payload sizes of the contenders that carry bytes: the
// msgpack encoding of the typed packets, so that every contender moves
// about the same number of bytes.
var rawSizes = func() [2]int {
	var out [2]int
	for i, p := range packets {
		b, err := msgpack.New().Marshal(p)
		if err != nil {
			panic(err)
		}
		out[i] = len(b)
	}
	return out
}()

// RawSize returns the payload size the byte contenders use for size.
func RawSize(size Size) int { return rawSizes[size] }

// rawPayloads are the byte contenders' payloads.
var rawPayloads = func() [2][]byte {
	var out [2][]byte
	for i, n := range rawSizes {
		out[i] = make([]byte, n)
		for k := range out[i] {
			out[i][k] = byte(k)
		}
	}
	return out
}()
