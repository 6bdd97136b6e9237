package dotnet_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"go.uber.org/goleak"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage/dotnet"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The C# types of the captures, namespace Interop, are declared in
// example_client_test.go, as docs/dotnet-interop.md shows them.

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// typed returns a payload in the typed layer's layout: the status byte for
// a response, then uvarint(len(typeID)) typeID body.
func typed(kind base.Kind, typeID, body string) []byte {
	var b []byte
	if kind == base.KindResponse {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(typeID)))
	return append(append(b, typeID...), body...)
}

// packet is a decoded packet with its own copy of the payload.
type packet struct {
	Kind    base.Kind
	ID      uint32
	Payload string
}

// malformedKind marks the place of a malformed packet among decoded ones;
// its Payload is the error text.
const malformedKind base.Kind = 0xff

// decodeStream decodes data delivered in reads of the given sizes (the
// rest in one read), as a connection's reader does: it keeps the bytes of
// a packet not yet whole and calls Decode again when more arrive. It
// returns the packets, heartbeats included (as KindNone), and the first
// error. A malformed packet is returned in its place as a malformedKind
// packet and decoding goes on after it, as a reader that skips it would;
// any other error ends decoding.
func decodeStream(data []byte, limit int, reads ...int) ([]packet, error) {
	p := dotnet.New()
	var out []packet
	var first error
	var buf []byte
	for len(data) > 0 {
		n := len(data)
		if len(reads) > 0 {
			n, reads = min(reads[0], n), reads[1:]
		}
		buf, data = append(buf, data[:n]...), data[n:]
		off := 0
		for off < len(buf) {
			pkt, used, err := p.Decode(buf[off:], limit)
			if err != nil && first == nil {
				first = err
			}
			if err != nil && (used == 0 || !errors.Is(err, dotnet.ErrMalformed)) {
				return out, first
			}
			if used == 0 {
				break
			}
			if err != nil {
				pkt = base.Packet{Kind: malformedKind, Payload: []byte(err.Error())}
			}
			out = append(out, packet{pkt.Kind, pkt.ID, string(pkt.Payload)})
			off += used
		}
		buf = bytes.Clone(buf[off:]) // a fresh array, as a grown read buffer may be
	}
	return out, first
}

// newLike returns a pointer to a new zero value of v's type.
func newLike(v any) any { return reflect.New(reflect.TypeOf(v)).Interface() }

// deref returns what the pointer p points to.
func deref(p any) any { return reflect.ValueOf(p).Elem().Interface() }
