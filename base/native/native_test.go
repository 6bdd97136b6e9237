package native_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var preface = []byte("NMGO\x02")

// ready returns a Protocol that has decoded the preface.
func ready(t testing.TB) base.Protocol {
	t.Helper()
	p := native.New()
	if _, n, err := p.Decode(preface, 0); n != len(preface) || err != nil {
		t.Fatalf("Decode(preface) = %d, %v", n, err)
	}
	return p
}

func TestPrefaceAndHeartbeat(t *testing.T) {
	p := native.New()
	if !bytes.Equal(p.Preface(), preface) {
		t.Errorf("Preface() = %q, want %q", p.Preface(), preface)
	}
	if !bytes.Equal(p.Heartbeat(), []byte{0}) {
		t.Errorf("Heartbeat() = %v, want [0]", p.Heartbeat())
	}
	if native.Version != 2 {
		t.Errorf("Version = %d", native.Version)
	}

	// The preface may arrive a byte at a time; nothing is consumed until
	// it is whole, then it is consumed as KindNone.
	for i := range len(preface) {
		if pkt, n, err := p.Decode(preface[:i], 100); n != 0 || err != nil || pkt.Kind != base.KindNone {
			t.Fatalf("Decode(preface[:%d]) = %v, %d, %v", i, pkt, n, err)
		}
	}
	pkt, n, err := p.Decode(append(bytes.Clone(preface), 0x00), 100)
	if n != len(preface) || err != nil || pkt.Kind != base.KindNone {
		t.Fatalf("Decode(preface) = %v, %d, %v", pkt, n, err)
	}
	// After the preface, the same bytes are a bad frame, and a heartbeat is
	// one byte of KindNone.
	if _, _, err := p.Decode(preface, 100); err == nil {
		t.Error("a second preface decoded without error")
	}
	if pkt, n, err := p.Decode([]byte{0, 0, 0}, 100); n != 1 || err != nil || pkt.Kind != base.KindNone {
		t.Errorf("Decode(heartbeat) = %v, %d, %v", pkt, n, err)
	}
	if _, n, err := p.Decode(nil, 100); n != 0 || err != nil {
		t.Errorf("Decode(nil) = %d, %v", n, err)
	}
	// Every Protocol starts afresh.
	if _, n, err := native.New().Decode(preface, 100); n != len(preface) || err != nil {
		t.Errorf("a new Protocol does not expect the preface: %d, %v", n, err)
	}
}

func TestAppendWireFormat(t *testing.T) {
	p := native.New()
	for _, tc := range []struct {
		pkt  base.Packet
		want []byte
	}{
		{base.Packet{Kind: base.KindMessage, Payload: []byte("hi")}, []byte{1, 0, 0, 0, 2, 'h', 'i'}},
		{base.Packet{Kind: base.KindMessage}, []byte{1, 0, 0, 0, 0}},
		{base.Packet{Kind: base.KindMessage, ID: 99}, []byte{1, 0, 0, 0, 0}}, // a message has no id
		{base.Packet{Kind: base.KindRequest, ID: 0x01020304, Payload: []byte{0}}, []byte{2, 1, 2, 3, 4, 0, 0, 0, 1, 0}},
		{base.Packet{Kind: base.KindResponse, ID: 0xffffffff}, []byte{3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}},
	} {
		dst := []byte("keep")
		got, err := p.Append(dst, tc.pkt)
		if err != nil {
			t.Fatalf("Append(%v): %v", tc.pkt, err)
		}
		if !bytes.HasPrefix(got, []byte("keep")) || !bytes.Equal(got[4:], tc.want) {
			t.Errorf("Append(%v) = % x, want keep + % x", tc.pkt, got, tc.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	big := make([]byte, 70000)
	for i := range big {
		big[i] = byte(i * 7)
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	var pkts []base.Packet
	for _, kind := range []base.Kind{base.KindMessage, base.KindRequest, base.KindResponse} {
		for _, id := range []uint32{0, 1, 0x7fffffff, 0xffffffff} {
			for _, payload := range [][]byte{nil, {0}, []byte("NMGO\x02"), all, big} {
				if kind == base.KindMessage {
					id = 0
				}
				pkts = append(pkts, base.Packet{Kind: kind, ID: id, Payload: payload})
			}
		}
	}

	enc := native.New()
	stream := bytes.Clone(preface)
	for i, pkt := range pkts {
		var err error
		if stream, err = enc.Append(stream, pkt); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			stream = append(stream, 0) // heartbeats between frames
		}
	}

	// Decode the whole stream at once, then a few bytes at a time.
	for _, step := range []int{len(stream), 1, 3, 4096} {
		dec := native.New()
		var got []base.Packet
		var buf []byte
		for off := 0; off < len(stream) || len(buf) > 0; {
			end := min(off+step, len(stream))
			buf = append(buf, stream[off:end]...)
			off = end
			progress := false
			for {
				pkt, n, err := dec.Decode(buf, len(big))
				if err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
				if n == 0 {
					break
				}
				progress = true
				if pkt.Kind != base.KindNone {
					pkt.Payload = bytes.Clone(pkt.Payload)
					got = append(got, pkt)
				}
				buf = buf[n:]
			}
			if !progress && off == len(stream) && len(buf) > 0 {
				t.Fatalf("step %d: %d bytes left over", step, len(buf))
			}
		}
		if len(got) != len(pkts) {
			t.Fatalf("step %d: decoded %d packets, want %d", step, len(got), len(pkts))
		}
		for i := range pkts {
			w, g := pkts[i], got[i]
			if g.Kind != w.Kind || g.ID != w.ID || !bytes.Equal(g.Payload, w.Payload) {
				t.Fatalf("step %d: packet %d: got %v %d (%d bytes), want %v %d (%d bytes)",
					step, i, g.Kind, g.ID, len(g.Payload), w.Kind, w.ID, len(w.Payload))
			}
		}
	}
}

func TestDecodePayloadAliasesBuffer(t *testing.T) {
	p := ready(t)
	buf := []byte{1, 0, 0, 0, 2, 'a', 'b', 1, 0, 0, 0, 1, 'c'}
	pkt, n, err := p.Decode(buf, 10)
	if err != nil || n != 7 || string(pkt.Payload) != "ab" {
		t.Fatalf("Decode = %v, %d, %v", pkt, n, err)
	}
	if &pkt.Payload[0] != &buf[5] {
		t.Error("payload is a copy, not a slice of buf")
	}
	// Appending to the payload must not overwrite the next frame.
	if cap(pkt.Payload) != len(pkt.Payload) {
		t.Errorf("payload capacity %d reaches past the frame", cap(pkt.Payload))
	}
}

func TestDecodeLimit(t *testing.T) {
	frame := func(n int) []byte {
		b, err := native.New().Append(nil, base.Packet{Kind: base.KindRequest, ID: 1, Payload: make([]byte, n)})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	p := ready(t)
	if _, n, err := p.Decode(frame(10), 10); n != 19 || err != nil {
		t.Errorf("payload at the limit: %d, %v", n, err)
	}
	if _, n, err := p.Decode(frame(0), 0); n != 9 || err != nil {
		t.Errorf("empty payload, limit 0: %d, %v", n, err)
	}
	// Over the limit fails as soon as the header is in, before the payload.
	for _, b := range [][]byte{frame(11), frame(11)[:9]} {
		_, n, err := p.Decode(b, 10)
		if n != 0 || !errors.Is(err, base.ErrPacketTooLarge) {
			t.Errorf("payload over the limit (%d bytes in): %d, %v", len(b), n, err)
		}
	}
	// A header not yet whole waits for more, whatever the limit.
	if _, n, err := p.Decode(frame(11)[:8], 10); n != 0 || err != nil {
		t.Errorf("partial header: %d, %v", n, err)
	}
}

func TestErrorMessages(t *testing.T) {
	tooLarge := func(n, limit string) string {
		return "netmessage: packet too large: frame declares " + n + " bytes, limit " + limit
	}
	for _, tc := range []struct {
		name   string
		input  []byte // fed to a fresh Protocol
		limit  int
		is     error
		errMsg string
	}{
		{"other protocol", []byte("GET / HTTP/1.1"), 100, native.ErrPreface,
			"native: bad preface: got 47 45 54 20 2f, want 4e 4d 47 4f 02"},
		{"other protocol, short", []byte("NX"), 100, native.ErrPreface,
			"native: bad preface: got 4e 58, want 4e 4d 47 4f 02"},
		{"TLS ClientHello", []byte("\x16\x03\x01\x02\x00\x01"), 100, native.ErrPreface,
			"native: bad preface: got 16 03 01 02 00, a TLS record: is one end using TLS and the other not?"},
		{"TLS alert", []byte("\x15\x03\x03\x00\x02"), 100, native.ErrPreface,
			"native: bad preface: got 15 03 03 00 02, a TLS record: is one end using TLS and the other not?"},
		{"other version", []byte("NMGO\x03"), 100, native.ErrPreface,
			"native: bad preface: peer speaks version 3, this end 2"},
		{"version 1", []byte("NMGO\x01"), 100, native.ErrPreface,
			"native: bad preface: peer speaks version 1, this end 2"},
		{"version 0", []byte("NMGO\x00\x01"), 100, native.ErrPreface,
			"native: bad preface: peer speaks version 0, this end 2"},
		{"unknown frame type", []byte("NMGO\x02\x07"), 100, nil,
			"native: unknown frame type 0x07"},
		{"unknown frame type ff", []byte("NMGO\x02\xff\x00\x00"), 100, nil,
			"native: unknown frame type 0xff"},
		{"message too large", []byte("NMGO\x02\x01\x00\x00\x00\x0b"), 10, base.ErrPacketTooLarge,
			tooLarge("11", "10")},
		{"request too large", []byte("NMGO\x02\x02\x00\x00\x00\x01\xff\xff\xff\xff"), 4 << 20, base.ErrPacketTooLarge,
			tooLarge("4294967295", "4194304")},
		{"response too large, limit 0", []byte("NMGO\x02\x03\x00\x00\x00\x01\x00\x00\x00\x01"), 0, base.ErrPacketTooLarge,
			tooLarge("1", "0")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := native.New()
			buf := tc.input
			for {
				_, n, err := p.Decode(buf, tc.limit)
				if err != nil {
					if err.Error() != tc.errMsg {
						t.Errorf("error %q, want %q", err, tc.errMsg)
					}
					if tc.is != nil && !errors.Is(err, tc.is) {
						t.Errorf("error %v does not match %v", err, tc.is)
					}
					if n != 0 {
						t.Errorf("n = %d with an error", n)
					}
					return
				}
				if n == 0 {
					t.Fatalf("no error; %d bytes left undecoded", len(buf))
				}
				buf = buf[n:]
			}
		})
	}

	p := native.New()
	for _, kind := range []base.Kind{base.KindNone, 7} {
		dst, err := p.Append([]byte("x"), base.Packet{Kind: kind, Payload: []byte("p")})
		want := "native: cannot encode packet kind " + kind.String()
		if err == nil || err.Error() != want {
			t.Errorf("Append(kind %v): %v, want %q", kind, err, want)
		}
		if string(dst) != "x" {
			t.Errorf("Append(kind %v) changed dst to %q", kind, dst)
		}
	}
	if !strings.HasPrefix(native.ErrPreface.Error(), "native: bad preface") {
		t.Errorf("ErrPreface = %q", native.ErrPreface)
	}
}
