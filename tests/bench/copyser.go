package bench

import (
	"fmt"

	"github.com/netmessage-go/netmessage/serializers/msgpack"
)

// copySerializer is the serializer of the netmessage/copy contender: it
// costs a copy and no reflection, so that the contender measures the typed
// layer's own work. It writes the msgpack encoding of the benchmark's
// packet, made once, and decodes by setting the packet of the size it
// reads; it knows only the typed contenders' packet types.
type copySerializer struct{}

// copyPayloads are the msgpack encodings of the packets.
var copyPayloads = func() (out [2][]byte) {
	for i, p := range packets {
		b, err := msgpack.New().Marshal(nmCall{Packet: p})
		if err != nil {
			panic(err)
		}
		out[i] = b
	}
	return out
}()

func (copySerializer) Name() string { return "copy" }

func (s copySerializer) Marshal(v any) ([]byte, error) { return s.MarshalAppend(nil, v) }

// MarshalAppend appends the encoding of the packet v carries.
func (copySerializer) MarshalAppend(dst []byte, v any) ([]byte, error) {
	var p *Packet
	switch v := v.(type) {
	case nmCall:
		p = &v.Packet
	case nmReply:
		p = &v.Packet
	case nmNote:
		p = &v.Packet
	default:
		return dst, fmt.Errorf("copy serializer: cannot marshal %T", v)
	}
	size := Small
	if len(p.Data) > 0 {
		size = Large
	}
	return append(dst, copyPayloads[size]...), nil
}

// Unmarshal sets v to the packet whose encoding has data's length.
func (copySerializer) Unmarshal(data []byte, v any) error {
	var size Size
	switch len(data) {
	case len(copyPayloads[Small]):
		size = Small
	case len(copyPayloads[Large]):
		size = Large
	default:
		return fmt.Errorf("copy serializer: %d bytes is no packet", len(data))
	}
	switch v := v.(type) {
	case *nmCall:
		v.Packet = packets[size]
	case *nmReply:
		v.Packet = packets[size]
	case *nmNote:
		v.Packet = packets[size]
	default:
		return fmt.Errorf("copy serializer: cannot unmarshal into %T", v)
	}
	return nil
}

// DecodeBound is msgpack's, so that the transport counts received
// payloads as it does for netmessage/msgpack.
func (copySerializer) DecodeBound() (perByte, fixed int) { return msgpack.New().DecodeBound() }
