package dotnet_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage/dotnet"
)

// FuzzDecode feeds arbitrary bytes to Decode as a connection's reader
// does. Decode must never panic, must consume between 0 and len(buf)
// bytes, must keep payloads within the limit, must give the same packets
// (and fail or not alike, and find the same malformed packets) however
// the stream is cut into reads, must count exactly one packet's bytes
// with a malformed packet, and re-encoding a decoded packet must give
// back exactly the bytes it consumed.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"session_client.bin", "session_server.bin", "bad_input.bin"} {
		f.Add(readFile(f, name), uint16(4096), uint16(7))
	}
	f.Fuzz(func(t *testing.T, data []byte, limit16, cut16 uint16) {
		limit := int(limit16)
		whole, werr := decodeStream(data, limit)
		cut, err := decodeStream(data, limit, int(cut16)%(len(data)+1)+1, 1, 2, 3)
		if (werr == nil) != (err == nil) {
			t.Fatalf("whole: %v; cut: %v", werr, err)
		}
		if !cmp.Equal(whole, cut) {
			t.Fatalf("packets differ:\nwhole %v\n  cut %v", whole, cut)
		}

		p := dotnet.New()
		for off := 0; off < len(data); {
			buf := data[off:]
			pkt, n, err := p.Decode(buf, limit)
			if n < 0 || n > len(buf) {
				t.Fatalf("Decode consumed %d of %d bytes", n, len(buf))
			}
			if errors.Is(err, dotnet.ErrMalformed) {
				if n == 0 || bytes.IndexByte(buf[:n], dotnet.Terminator) != n-1 {
					t.Fatalf("malformed packet: consumed %q of %q, want one packet with its terminator", buf[:n], buf)
				}
				off += n
				continue
			}
			if err != nil || n == 0 {
				return
			}
			used := buf[:n]
			if pkt.Kind == base.KindNone {
				if !bytes.Equal(used, []byte{dotnet.Terminator}) {
					t.Fatalf("KindNone consumed %q", used)
				}
			} else {
				if len(pkt.Payload) > limit {
					t.Fatalf("payload of %d bytes over the limit %d", len(pkt.Payload), limit)
				}
				again, err := dotnet.New().Append(nil, pkt)
				if err != nil {
					t.Fatalf("Append(%v): %v", pkt, err)
				}
				if !bytes.Equal(again, used) {
					t.Fatalf("re-encoded %q, consumed %q", again, used)
				}
			}
			off += n
		}
	})
}
