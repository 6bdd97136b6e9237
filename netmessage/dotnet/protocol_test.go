package dotnet_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage/dotnet"
)

func TestPrefaceAndHeartbeat(t *testing.T) {
	p := dotnet.New()
	if p.Preface() != nil {
		t.Errorf("Preface = %q, want nil", p.Preface())
	}
	if string(p.Heartbeat()) != "\x04" {
		t.Errorf("Heartbeat = %q", p.Heartbeat())
	}
	got, err := decodeStream([]byte("\x04\x04A::b\x04\x04"), 100)
	want := []packet{{}, {}, {base.KindMessage, 0, string(typed(base.KindMessage, "A", "b"))}, {}}
	if err != nil || !cmp.Equal(want, got) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
}

func TestAppend(t *testing.T) {
	for _, c := range []struct {
		kind    base.Kind
		id      uint32
		payload []byte
		want    string
	}{
		{base.KindMessage, 0, typed(base.KindMessage, "N.T", "body:with:colons"), "N.T::body:with:colons\x04"},
		{base.KindMessage, 9, typed(base.KindMessage, "T", ""), "T::\x04"},
		{base.KindRequest, 2147483647, typed(base.KindRequest, "N.Q", "q"), ">N.Q:2147483647:q\x04"},
		{base.KindRequest, 1 << 31, typed(base.KindRequest, "N.Q", "q"), ">N.Q:-2147483648:q\x04"},
		{base.KindResponse, 0xFFFFFFFF, typed(base.KindResponse, "N.R", "ä€"), "<N.R:-1:ä€\x04"},
	} {
		got, err := dotnet.New().Append([]byte("kept"), base.Packet{Kind: c.kind, ID: c.id, Payload: c.payload})
		if err != nil || string(got) != "kept"+c.want {
			t.Errorf("Append(%s %d %q) = %q, %v; want %q", c.kind, c.id, c.payload, got, err, "kept"+c.want)
		}
		if c.kind == base.KindMessage {
			continue
		}
		back, err := decodeStream([]byte(c.want), 100)
		if err != nil || len(back) != 1 || back[0].ID != c.id || back[0].Payload != string(c.payload) {
			t.Errorf("decode of %q = %v, %v", c.want, back, err)
		}
	}
}

func TestAppendRefuses(t *testing.T) {
	for _, c := range []struct {
		name    string
		kind    base.Kind
		payload []byte
		is      error
		text    string
	}{
		{"terminator in body", base.KindMessage, typed(base.KindMessage, "T", "a\x04b"), dotnet.ErrTerminator, "T body, byte offset 1"},
		{"handler error", base.KindResponse, []byte("\x01boom"), dotnet.ErrErrorResponse, "(handler error: boom); the .NET caller will time out"},
		{"unhandled", base.KindResponse, []byte("\x02no handler for X"), dotnet.ErrErrorResponse, "unhandled request: no handler for X"},
		{"bad request", base.KindResponse, []byte("\x03bad"), dotnet.ErrErrorResponse, "bad request"},
		{"panic", base.KindResponse, []byte("\x04oops"), dotnet.ErrErrorResponse, "handler panic"},
		{"permission denied", base.KindResponse, []byte("\x06no"), dotnet.ErrErrorResponse, "(permission denied: no)"},
		{"unknown status", base.KindResponse, []byte("\x63?"), dotnet.ErrErrorResponse, "status 99"},
		{"empty response", base.KindResponse, nil, dotnet.ErrUnencodable, "empty response"},
		{"no header", base.KindMessage, []byte{0x05, 'a'}, dotnet.ErrUnencodable, "no typed layer header"},
		{"binary body", base.KindMessage, typed(base.KindMessage, "T", "\xff\xfe"), dotnet.ErrUnencodable, "not valid UTF-8"},
		{"empty type id", base.KindMessage, typed(base.KindMessage, "", "x"), dotnet.ErrUnencodable, "empty type id"},
		{"colon in type id", base.KindRequest, typed(base.KindRequest, "a:b", "x"), dotnet.ErrUnencodable, "contains ':'"},
		{"kind prefix in type id", base.KindMessage, typed(base.KindMessage, ">a", "x"), dotnet.ErrUnencodable, "starts with '>'"},
		{"kind none", base.KindNone, typed(base.KindMessage, "a", "x"), dotnet.ErrUnencodable, "packet kind none"},
	} {
		got, err := dotnet.New().Append([]byte("kept"), base.Packet{Kind: c.kind, ID: 3, Payload: c.payload})
		if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: got %v, want %v containing %q", c.name, err, c.is, c.text)
		}
		if string(got) != "kept" {
			t.Errorf("%s: dst changed to %q", c.name, got)
		}
	}
}

func TestDecodeMalformed(t *testing.T) {
	for _, c := range []struct{ in, text string }{
		{"garbage\x04", `no ':' after the type id in "garbage"`},
		{">Req\x04", "no ':' after the type id"},
		{"T:x\x04", "no ':' after the id field"},
		{"::x\x04", "empty type id"},
		{"><Q:1:x\x04", `starts with '<'`},
		{"T:1:x\x04", `a message with id "1"`},
		{">Q::x\x04", `bad request id ""`},
		{">Q:01:x\x04", `bad request id "01"`},
		{">Q:+1:x\x04", `bad request id "+1"`},
		{"<R:-0:x\x04", `bad response id "-0"`},
		{"<R:2147483648:x\x04", `bad response id "2147483648"`},
		{">Q:1 :x\x04", `bad request id "1 "`},
		{"T::\xc3\x04", "invalid UTF-8"},
		{"T\xff::x\x04", "not valid text"},
	} {
		_, err := decodeStream([]byte(c.in), 100)
		if !errors.Is(err, dotnet.ErrMalformed) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("Decode(%q) = %v, want ErrMalformed containing %q", c.in, err, c.text)
		}
		// The bad packet's bytes are counted, so the packet after it can
		// be decoded: it is not swallowed.
		p := dotnet.New()
		in := []byte(c.in + "A::b\x04")
		if _, n, err := p.Decode(in, 100); n != len(c.in) || !errors.Is(err, dotnet.ErrMalformed) {
			t.Errorf("Decode(%q) consumed %d bytes with %v, want the %d bytes of the bad packet with ErrMalformed", in, n, err, len(c.in))
			continue
		}
		pkt, n, err := p.Decode(in[len(c.in):], 100)
		if err != nil || n != 5 || string(pkt.Payload) != string(typed(base.KindMessage, "A", "b")) {
			t.Errorf("after %q: %v, %d, %v; want the next packet", c.in, pkt, n, err)
		}
	}
	_, err := decodeStream([]byte("G"+strings.Repeat("é", 40)+"\x04"), 1000)
	if !errors.Is(err, dotnet.ErrMalformed) || !strings.Contains(err.Error(), "... (81 bytes)") {
		t.Errorf("long malformed packet: %v", err)
	}
}

func TestDecodeLimit(t *testing.T) {
	// "T::" + 8 bytes decodes to 1 + 1 + 8 = 10 bytes.
	if got, err := decodeStream([]byte("T::12345678\x04"), 10); err != nil || len(got) != 1 {
		t.Errorf("at the limit: %v, %v", got, err)
	}
	if _, err := decodeStream([]byte("T::123456789\x04"), 10); !errors.Is(err, base.ErrPacketTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
	// A response's status byte counts: 1 + 1 + 1 + 7.
	if _, err := decodeStream([]byte("<T:0:12345678\x04"), 10); !errors.Is(err, base.ErrPacketTooLarge) {
		t.Errorf("response over the limit: %v", err)
	}
	// Without a terminator, the error comes before the whole packet.
	p := dotnet.New()
	buf := []byte(">T:2147483647:" + strings.Repeat("x", 10))
	if _, n, err := p.Decode(buf, 10); n != 0 || err != nil {
		t.Fatalf("a packet that may still fit: %d, %v", n, err)
	}
	buf = append(buf, 'x')
	if _, _, err := p.Decode(buf, 10); !errors.Is(err, base.ErrPacketTooLarge) || !strings.Contains(err.Error(), "without a terminator") {
		t.Fatalf("got %v, want ErrPacketTooLarge before the terminator", err)
	}
}

func TestDecodeReusesBuffer(t *testing.T) {
	var stream []byte
	for range 100 {
		stream = append(stream, ">Interop.WeatherRequest:12:<WeatherRequest><City>Bonn</City></WeatherRequest>\x04"...)
	}
	p := dotnet.New()
	allocs := testing.AllocsPerRun(10, func() {
		for off := 0; off < len(stream); {
			_, n, err := p.Decode(stream[off:], 1<<20)
			if err != nil || n == 0 {
				t.Fatal(n, err)
			}
			off += n
		}
	})
	if allocs > 0 {
		t.Errorf("%v allocations per 100 packets, want 0", allocs)
	}
}
