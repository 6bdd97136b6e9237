package native_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// FuzzDecode feeds arbitrary bytes to a fresh Protocol, decoding packet
// after packet as a connection's reader does. Decode must never panic, must
// consume between 0 and len(buf) bytes, must keep payloads within the limit,
// must report a frame that is not yet whole as (0, nil) at every shorter
// length, and re-encoding a decoded packet must give back exactly the bytes
// it consumed.
func FuzzDecode(f *testing.F) {
	frame := func(kind base.Kind, id uint32, payload string) []byte {
		b, err := native.New().Append(nil, base.Packet{Kind: kind, ID: id, Payload: []byte(payload)})
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	f.Add([]byte{}, uint16(0))
	f.Add(preface, uint16(16))
	f.Add(cat(preface, []byte{0, 0}), uint16(16))
	f.Add(cat(preface, frame(base.KindMessage, 0, "hello")), uint16(16))
	f.Add(cat(preface, frame(base.KindRequest, 7, "q"), frame(base.KindResponse, 7, "a")), uint16(1))
	f.Add(cat(preface, frame(base.KindMessage, 0, "too long")), uint16(4))
	f.Add(cat(preface, frame(base.KindResponse, 1, "cut"))[:10], uint16(16))
	f.Add([]byte("NMGO\x03"), uint16(16))
	info := func(p base.Packet, in *base.CallInfo) []byte {
		b, err := native.New().(base.CallInfoProtocol).AppendInfo(nil, p, in)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	f.Add(cat(preface, info(base.Packet{Kind: base.KindRequest, ID: 3, Payload: []byte("q")},
		&base.CallInfo{Timeout: 1500 * time.Millisecond, Cancelable: true, Meta: base.Metadata{"auth": "t", "trace-id": "1"}})), uint16(64))
	f.Add(cat(preface, info(base.Packet{Kind: base.KindMessage, Payload: []byte("m")}, &base.CallInfo{Meta: base.Metadata{"k": ""}})), uint16(64))
	f.Add(cat(preface, info(base.Packet{Kind: base.KindCancel, ID: 9}, nil)), uint16(0))
	f.Add([]byte("GET / HTTP/1.1\r\n"), uint16(16))
	f.Add(cat(preface, []byte{0x05}), uint16(16))

	f.Fuzz(func(t *testing.T, data []byte, limit16 uint16) {
		limit := int(limit16)
		p := native.New()
		first := true
		for off := 0; off < len(data); {
			buf := data[off:]
			pkt, n, err := p.Decode(buf, limit)
			if n < 0 || n > len(buf) {
				t.Fatalf("Decode consumed %d of %d bytes", n, len(buf))
			}
			if err != nil {
				if n != 0 && (buf[0] != 0x04 && buf[0] != 0x05) {
					t.Fatalf("Decode returned n = %d with error %v", n, err)
				}
				if n == 0 {
					return
				}
				// A frame with bad call information, dropped alone.
				off += n
				first = false
				continue
			}
			if n == 0 {
				return // waits for more bytes
			}
			used := buf[:n]
			if pkt.Kind == base.KindNone {
				want := []byte{0}
				if first {
					want = preface
				}
				if !bytes.Equal(used, want) {
					t.Fatalf("KindNone consumed % x, want % x", used, want)
				}
			} else {
				if first {
					t.Fatalf("a %s decoded before the preface", pkt.Kind)
				}
				if len(pkt.Payload) > limit {
					t.Fatalf("payload of %d bytes over the limit %d", len(pkt.Payload), limit)
				}
				again, err := native.New().(base.CallInfoProtocol).AppendInfo(nil, pkt, p.(base.CallInfoProtocol).Info())
				if err != nil {
					t.Fatalf("Append(%v): %v", pkt, err)
				}
				if !bytes.Equal(again, used) {
					t.Fatalf("re-encoded % x, consumed % x", again, used)
				}
				// Any shorter prefix of a whole frame is "not yet whole".
				for k := range min(n, 16) {
					if q, m, err := p.Decode(used[:k], limit); m != 0 || err != nil || q.Kind != base.KindNone {
						t.Fatalf("Decode of %d of the frame's %d bytes: %v, %d, %v", k, n, q, m, err)
					}
				}
				if q, m, err := p.Decode(used[:n-1], limit); m != 0 || err != nil || q.Kind != base.KindNone {
					t.Fatalf("Decode of all but the last byte: %v, %d, %v", q, m, err)
				}
			}
			first = false
			off += n
		}
	})
}
