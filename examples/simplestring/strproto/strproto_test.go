package strproto_test

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/examples/simplestring/strproto"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pkt is a decoded packet in comparable form.
type pkt struct {
	Kind    base.Kind
	ID      uint32
	Payload string
}

func (p pkt) packet() base.Packet {
	return base.Packet{Kind: p.Kind, ID: p.ID, Payload: []byte(p.Payload)}
}

var hb = pkt{Kind: base.KindNone}

func msg(s string) pkt             { return pkt{Kind: base.KindMessage, Payload: s} }
func req(id uint32, s string) pkt  { return pkt{Kind: base.KindRequest, ID: id, Payload: s} }
func resp(id uint32, s string) pkt { return pkt{Kind: base.KindResponse, ID: id, Payload: s} }

// decodeStream feeds chunks to one Protocol the way base's reader does:
// bytes not consumed stay at the front of the buffer and the next read is
// appended. It returns the packets decoded, the count of bytes left over
// and the first error.
func decodeStream(chunks [][]byte, limit int) ([]pkt, int, error) {
	p := strproto.New()
	var got []pkt
	var buf []byte
	for _, c := range chunks {
		buf = append(buf, c...)
		off := 0
		for off < len(buf) {
			packet, n, err := p.Decode(buf[off:], limit)
			if err != nil {
				return got, len(buf) - off, err
			}
			if n == 0 {
				break
			}
			if n < 0 || n > len(buf)-off {
				return got, len(buf) - off, fmt.Errorf("Decode consumed %d of %d bytes", n, len(buf)-off)
			}
			got = append(got, pkt{packet.Kind, packet.ID, string(packet.Payload)})
			off += n
		}
		if off > 0 {
			buf = append(buf[:0], buf[off:]...)
		}
	}
	return got, len(buf), nil
}

func TestAppend(t *testing.T) {
	tests := []struct {
		in   pkt
		want string
	}{
		{msg("hello"), "Mhello\x04"},
		{msg(""), "M\x04"},
		{req(0, ""), "Q0:\x04"},
		{req(42, "a:b"), "Q42:a:b\x04"},
		{resp(math.MaxUint32, "Grüße, 世界 🌍"), "R4294967295:Grüße, 世界 🌍\x04"},
	}
	for _, tt := range tests {
		dst := []byte("prefix")
		got, err := strproto.New().Append(dst, tt.in.packet())
		if err != nil {
			t.Errorf("Append(%v): %v", tt.in, err)
			continue
		}
		if want := "prefix" + tt.want; string(got) != want {
			t.Errorf("Append(%v) = %q, want %q", tt.in, got, want)
		}
	}
}

func TestAppendRefuses(t *testing.T) {
	tests := []struct {
		name string
		in   pkt
		want error // nil: any error
	}{
		{"terminator", msg("one\x04two"), strproto.ErrTerminator},
		{"terminator at end", req(1, "x\x04"), strproto.ErrTerminator},
		{"lone terminator", resp(1, "\x04"), strproto.ErrTerminator},
		{"invalid byte", msg("ok\xff"), strproto.ErrInvalidUTF8},
		{"truncated character", req(2, "\xe4\xb8"), strproto.ErrInvalidUTF8},
		{"surrogate", msg("\xed\xa0\x80"), strproto.ErrInvalidUTF8},
		{"kind none", hb, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := make([]byte, 3, 64)
			copy(dst, "abc")
			got, err := strproto.New().Append(dst, tt.in.packet())
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("Append(%q) error = %v, want %v", tt.in.Payload, err, tt.want)
			}
			if string(got) != "abc" {
				t.Errorf("Append returned %q on error, want dst unchanged", got)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		limit int
		want  []pkt
		rest  int
		err   error
	}{
		{"empty", "", 8, nil, 0, nil},
		{"heartbeats", "\x04\x04", 8, []pkt{hb, hb}, 0, nil},
		{"message", "Mhi\x04", 8, []pkt{msg("hi")}, 0, nil},
		{"empty message", "M\x04", 8, []pkt{msg("")}, 0, nil},
		{"request", "Q7:a:b\x04", 8, []pkt{req(7, "a:b")}, 0, nil},
		{"response", "R0:\x04", 8, []pkt{resp(0, "")}, 0, nil},
		{"largest id", "Q4294967295:x\x04", 8, []pkt{req(math.MaxUint32, "x")}, 0, nil},
		{"unicode", "Mgrüße 🌍\x04", 16, []pkt{msg("grüße 🌍")}, 0, nil},
		{"many in one read", "Ma\x04\x04Q1:b\x04R2:c\x04", 8, []pkt{msg("a"), hb, req(1, "b"), resp(2, "c")}, 0, nil},
		{"partial payload", "Mhel", 8, nil, 4, nil},
		{"partial header", "Q12", 8, nil, 3, nil},
		{"partial character", "M\xe4\xb8", 8, nil, 3, nil},
		{"packet then partial", "Mhi\x04Q1", 8, []pkt{msg("hi")}, 2, nil},
		{"payload at limit", "Mabc\x04", 3, []pkt{msg("abc")}, 0, nil},
		{"unterminated at limit", "Mabc", 3, nil, 4, nil},
		{"request at limit", "Q123:abc", 3, nil, 8, nil},
		{"payload over limit", "Mabcd\x04", 3, nil, 6, base.ErrPacketTooLarge},
		{"unterminated over limit", "Mabcd", 3, nil, 5, base.ErrPacketTooLarge},
		{"request over limit", "Q123:abcd", 3, nil, 9, base.ErrPacketTooLarge},
		{"unknown type", "X\x04", 8, nil, 2, strproto.ErrMalformed},
		{"lower-case type", "mhi\x04", 8, nil, 4, strproto.ErrMalformed},
		{"missing id", "Q:x\x04", 8, nil, 4, strproto.ErrMalformed},
		{"letter in id", "R1a:\x04", 8, nil, 5, strproto.ErrMalformed},
		{"signed id", "R+1:\x04", 8, nil, 5, strproto.ErrMalformed},
		{"leading zero", "Q01:\x04", 8, nil, 5, strproto.ErrMalformed},
		{"id over 32 bits", "Q4294967296", 8, nil, 11, strproto.ErrMalformed},
		{"terminator in header", "Q12\x04", 8, nil, 4, strproto.ErrMalformed},
		{"invalid UTF-8", "M\xff\x04", 8, nil, 3, strproto.ErrInvalidUTF8},
		{"overlong encoding", "M\xc0\xaf\x04", 8, nil, 4, strproto.ErrInvalidUTF8},
		{"truncated character", "Q1:\xe4\xb8\x04", 8, nil, 6, strproto.ErrInvalidUTF8},
		{"packets before an error", "Ma\x04\x04Z", 8, []pkt{msg("a"), hb}, 1, strproto.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rest, err := decodeStream([][]byte{[]byte(tt.in)}, tt.limit)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Errorf("error = %v, want %v", err, tt.err)
			}
			if !slices.Equal(got, tt.want) || rest != tt.rest {
				t.Errorf("got %v with %d bytes left, want %v with %d", got, rest, tt.want, tt.rest)
			}
		})
	}
}

// stream returns an encoded stream of several packets with heartbeats
// between them, and the packets.
func stream(t *testing.T) ([]byte, []pkt) {
	t.Helper()
	want := []pkt{msg("hello"), hb, req(1, "Grüße, 世界"), hb, hb, resp(4294967295, "🌍:🌎"), msg(""), req(20, "x")}
	var b []byte
	p := strproto.New()
	for _, w := range want {
		var err error
		if w.Kind == base.KindNone {
			b = append(b, p.Heartbeat()...)
		} else if b, err = p.Append(b, w.packet()); err != nil {
			t.Fatal(err)
		}
	}
	return b, want
}

// TestDecodeSplits decodes a stream cut at every pair of points, and byte
// by byte: every way of splitting it into reads gives the same packets.
func TestDecodeSplits(t *testing.T) {
	b, want := stream(t)
	check := func(name string, chunks [][]byte) {
		t.Helper()
		got, rest, err := decodeStream(chunks, 64)
		if err != nil || rest != 0 || !slices.Equal(got, want) {
			t.Fatalf("%s: got %v, %d bytes left, error %v; want %v", name, got, rest, err, want)
		}
	}
	for i := range len(b) + 1 {
		for j := i; j <= len(b); j++ {
			check(fmt.Sprintf("cut at %d and %d", i, j), [][]byte{b[:i], b[i:j], b[j:]})
		}
	}
	var bytewise [][]byte
	for i := range b {
		bytewise = append(bytewise, b[i:i+1])
	}
	check("byte by byte", bytewise)
}

// TestDecodeLargeInSmallReads decodes a large packet that arrives a few
// bytes at a time; the scan offset keeps this linear.
func TestDecodeLargeInSmallReads(t *testing.T) {
	payload := strings.Repeat("données ", 32<<10) // 288 KiB
	b, err := strproto.New().Append(nil, req(9, payload).packet())
	if err != nil {
		t.Fatal(err)
	}
	var chunks [][]byte
	for c := range slices.Chunk(b, 3) {
		chunks = append(chunks, c)
	}
	got, rest, err := decodeStream(chunks, len(payload))
	if err != nil || rest != 0 || len(got) != 1 || got[0] != req(9, payload) {
		t.Fatalf("got %d packets, %d bytes left, error %v", len(got), rest, err)
	}
	if _, _, err := decodeStream(chunks, len(payload)-1); !errors.Is(err, base.ErrPacketTooLarge) {
		t.Fatalf("with a limit one byte short: error %v, want ErrPacketTooLarge", err)
	}
}

// TestDecodeDoesNotRescan shows that Decode resumes its search for the
// terminator where the previous call stopped: it does not look again at
// bytes it has scanned (so here, where the caller breaks the contract by
// changing them, it misses the terminator planted among them).
func TestDecodeDoesNotRescan(t *testing.T) {
	p := strproto.New()
	if _, n, err := p.Decode([]byte("Mabc"), 64); n != 0 || err != nil {
		t.Fatalf("Decode(Mabc) = %d, %v; want 0, nil", n, err)
	}
	if _, n, err := p.Decode([]byte("Ma\x04cd"), 64); n != 0 || err != nil {
		t.Fatalf("Decode after a partial packet rescanned it: %d, %v", n, err)
	}
	pk, n, err := p.Decode([]byte("Mabcd\x04"), 64)
	if err != nil || n != 6 || string(pk.Payload) != "abcd" {
		t.Fatalf("Decode(Mabcd EOT) = %q, %d, %v", pk.Payload, n, err)
	}
}

func TestPrefaceAndHeartbeat(t *testing.T) {
	p := strproto.New()
	if p.Preface() != nil {
		t.Errorf("Preface() = %q, want nil", p.Preface())
	}
	pk, n, err := p.Decode(p.Heartbeat(), 1)
	if pk.Kind != base.KindNone || n != 1 || err != nil {
		t.Errorf("Decode(Heartbeat()) = %v, %d, %v; want a KindNone packet of 1 byte", pk, n, err)
	}
}

func BenchmarkDecodeLargeInSmallReads(b *testing.B) {
	enc, err := strproto.New().Append(nil, msg(strings.Repeat("x", 1<<20)).packet())
	if err != nil {
		b.Fatal(err)
	}
	var chunks [][]byte
	for c := range slices.Chunk(enc, 512) {
		chunks = append(chunks, c)
	}
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if got, _, err := decodeStream(chunks, 1<<20); err != nil || len(got) != 1 {
			b.Fatal(len(got), err)
		}
	}
}
