package native_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// TestCallInfoFrames checks the version 2 frames byte by byte (the worked
// example of docs/wire-format.md among them) and that they decode back.
func TestCallInfoFrames(t *testing.T) {
	for _, tc := range []struct {
		name string
		pkt  base.Packet
		info *base.CallInfo
		want string
	}{
		{"request without call info is a version 1 frame",
			base.Packet{Kind: base.KindRequest, ID: 7, Payload: []byte("q")}, nil,
			"\x02\x00\x00\x00\x07\x00\x00\x00\x01q"},
		{"message without call info is a version 1 frame",
			base.Packet{Kind: base.KindMessage, Payload: []byte("m")}, nil,
			"\x01\x00\x00\x00\x01m"},
		{"request with timeout, cancelable and metadata",
			base.Packet{Kind: base.KindRequest, ID: 7, Payload: []byte("q")},
			&base.CallInfo{Timeout: 1500 * time.Millisecond, Cancelable: true, Meta: base.Metadata{"tenant": "a", "auth": "xy"}},
			"\x04\x00\x00\x00\x07" + // type, id
				"\x18" + // 24 bytes of call information
				"\x01\xe0\xc6\x5b" + // timeout: 1,500,000 µs
				"\x02" + // cancelable
				"\x03\x02" + // metadata: 2 pairs, keys in ascending order
				"\x04auth\x02xy" +
				"\x06tenant\x01a" +
				"\x00\x00\x00\x01q"},
		{"message with metadata",
			base.Packet{Kind: base.KindMessage, Payload: []byte("m")}, &base.CallInfo{Meta: base.Metadata{"k": "v"}},
			"\x05\x06\x03\x01\x01k\x01v\x00\x00\x00\x01m"},
		{"empty metadata still travels",
			base.Packet{Kind: base.KindMessage, Payload: nil}, &base.CallInfo{Meta: base.Metadata{}},
			"\x05\x02\x03\x00\x00\x00\x00\x00"},
		{"cancel",
			base.Packet{Kind: base.KindCancel, ID: 258}, nil,
			"\x06\x00\x00\x01\x02"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := native.New().(base.CallInfoProtocol).AppendInfo(nil, tc.pkt, tc.info)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Fatalf("Append = % x\nwant     % x", b, tc.want)
			}
			p := native.New()
			stream := append(append([]byte{}, preface...), b...)
			if _, n, err := p.Decode(stream, 1<<20); err != nil || n != len(preface) {
				t.Fatalf("preface: %d, %v", n, err)
			}
			got, n, err := p.Decode(stream[len(preface):], 1<<20)
			if err != nil || n != len(b) {
				t.Fatalf("Decode: %d of %d bytes, %v", n, len(b), err)
			}
			want := tc.pkt
			if len(want.Payload) == 0 {
				want.Payload, got.Payload = nil, nil
			}
			if !reflect.DeepEqual(want, got) {
				t.Errorf("decoded %+v\nwant    %+v", got, want)
			}
			if in := p.(base.CallInfoProtocol).Info(); !reflect.DeepEqual(in, tc.info) {
				t.Errorf("decoded call information %+v\nwant                       %+v", in, tc.info)
			}
		})
	}
}

// TestBadCallInfo checks that a frame with bad call information is one
// bad packet: an error with the frame's length, so the stream goes on.
func TestBadCallInfo(t *testing.T) {
	for _, tc := range []struct{ name, frame, err string }{
		{"unknown field", "\x04\x00\x00\x00\x01\x01\x09\x00\x00\x00\x00", "unexpected call information field 0x09"},
		{"fields out of order", "\x04\x00\x00\x00\x01\x02\x02\x02\x00\x00\x00\x00", "unexpected call information field 0x02"},
		{"timeout on a message", "\x05\x02\x01\x01\x00\x00\x00\x00", "unexpected call information field 0x01"},
		{"zero timeout", "\x04\x00\x00\x00\x01\x02\x01\x00\x00\x00\x00\x00", "bad timeout"},
		{"long uvarint", "\x04\x00\x00\x00\x01\x03\x01\x81\x00\x00\x00\x00\x00", "bad timeout"},
		{"keys out of order", "\x05\x08\x03\x02\x01b\x00\x01a\x00\x00\x00\x00\x00", "not in ascending order"},
		{"key twice", "\x05\x08\x03\x02\x01a\x00\x01a\x00\x00\x00\x00\x00", "not in ascending order"},
		{"value past the block", "\x05\x05\x03\x01\x01a\x05\x00\x00\x00\x00", "bad metadata value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := native.New()
			if _, _, err := p.Decode(preface, 100); err != nil {
				t.Fatal(err)
			}
			next := "\x00" // a heartbeat after the bad frame
			_, n, err := p.Decode([]byte(tc.frame+next), 100)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("Decode error %v, want one with %q", err, tc.err)
			}
			if n != len(tc.frame) {
				t.Fatalf("Decode consumed %d bytes, want the frame's %d", n, len(tc.frame))
			}
		})
	}
}

// TestMetadataCountBomb checks that the number of metadata entries a
// frame declares does not size what decoding allocates: a 4 MiB frame that
// declares about as many entries as it has bytes, and holds one, costs
// little, not the map those entries would need (320 MB).
func TestMetadataCountBomb(t *testing.T) {
	const size = 4 << 20
	info := make([]byte, size)
	info[0] = 0x03 // metadata
	// Entries that each take one byte are declared: more than the block
	// can hold, as each takes at least two.
	k := len(binary.AppendUvarint(nil, size))
	binary.PutUvarint(info[1:], uint64(size-1-k))
	frame := binary.AppendUvarint([]byte{0x05}, uint64(len(info)))
	frame = append(append(frame, info...), 0, 0, 0, 0)

	p := ready(t)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, n, err := p.Decode(frame, size)
	runtime.ReadMemStats(&after)
	if err == nil || n != len(frame) {
		t.Fatalf("Decode = %d of %d bytes, %v; want the frame dropped with an error", n, len(frame), err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > size {
		t.Errorf("decoding a %d-byte frame allocated %d bytes, want at most its size", len(frame), got)
	}
}

// TestMetadataLimitWhileDecoding: with a metadata limit (LimitMetadata,
// which a session sets to its WithMaxMetadataBytes), a frame whose valid
// metadata is far larger is dropped alone, with an error matching
// base.ErrMetadata, once the limit is passed: what decoding it allocates
// follows the limit, not the frame. Without a limit the same frame
// decodes whole.
func TestMetadataLimitWhileDecoding(t *testing.T) {
	const entries = 200_000
	md := make(base.Metadata, entries)
	for i := range entries {
		md[fmt.Sprintf("k%06d", i)] = ""
	}
	pkt := base.Packet{Kind: base.KindRequest, ID: 7, Payload: []byte("x")}
	frame, err := native.New().(*native.Protocol).AppendInfo(nil, pkt, &base.CallInfo{Meta: md})
	if err != nil {
		t.Fatal(err)
	}

	p := ready(t).(*native.Protocol)
	const limit = 8 << 10
	p.LimitMetadata(limit)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, n, err := p.Decode(frame, len(frame))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, base.ErrMetadata) || n != len(frame) {
		t.Fatalf("Decode = %d of %d bytes, %v; want the frame dropped with ErrMetadata", n, len(frame), err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 64*limit {
		t.Errorf("decoding %d bytes of metadata against a limit of %d allocated %d bytes, want at most %d", md.Size(), limit, got, 64*limit)
	}

	q := ready(t).(*native.Protocol)
	got, n, err := q.Decode(frame, len(frame))
	if err != nil || n != len(frame) || got.ID != 7 || len(q.Info().Meta) != entries {
		t.Fatalf("without a limit: Decode = %v, %d of %d bytes, %v; %d entries", got, n, len(frame), err, len(q.Info().Meta))
	}
}

func TestCallInfoSizes(t *testing.T) {
	// Call information costs nothing when unused.
	plain, _ := native.New().Append(nil, base.Packet{Kind: base.KindRequest, ID: 1, Payload: []byte("x")})
	if len(plain) != 10 {
		t.Fatalf("plain request frame of %d bytes, want 10 as in version 1", len(plain))
	}
	var p native.Protocol
	if !p.CarriesCallInfo() {
		t.Fatal("the native protocol must carry call information")
	}
}
