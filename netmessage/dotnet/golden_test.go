package dotnet_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage/dotnet"
	"github.com/netmessage-go/netmessage/serializers/dotnetxml"
)

// sessionPacket is one captured packet: its kind, id, type id and value.
type sessionPacket struct {
	kind   base.Kind
	id     uint32
	typeID string
	value  any // nil for a heartbeat
}

// sessions are the packets of the captured session, per direction, in
// order (testdata holds the bytes).
var sessions = map[string][]sessionPacket{
	"session_client.bin": {
		{base.KindMessage, 0, "Interop.ChatMessage", ChatMessage{Text: "hi from .NET client", Seq: 7}},
		{base.KindRequest, 0, "Interop.WeatherRequest", WeatherRequest{City: "Bonn", Date: time.Date(2026, 1, 2, 0, 0, 0, 0, dotnetxml.Unspecified)}},
		{base.KindResponse, 0, "Interop.WeatherResponse", WeatherResponse{Forecast: "Rainy in Redmond"}},
		{base.KindNone, 0, "", nil},
	},
	"session_server.bin": {
		{base.KindMessage, 0, "Interop.ChatMessage", ChatMessage{Text: "hello from .NET", Seq: 1}},
		{base.KindResponse, 0, "Interop.WeatherResponse", WeatherResponse{Forecast: "Sunny in Bonn"}},
		{base.KindRequest, 0, "Interop.WeatherRequest", WeatherRequest{City: "Redmond", Date: time.Date(2026, 11, 25, 12, 0, 0, 0, dotnetxml.Unspecified)}},
		{base.KindNone, 0, "", nil},
	},
}

// encodeSession returns the typed packets of a captured session, their
// bodies written by dotnetxml.
func encodeSession(t *testing.T, want []sessionPacket) []packet {
	var out []packet
	for _, w := range want {
		if w.value == nil {
			out = append(out, packet{Kind: base.KindNone})
			continue
		}
		body, err := dotnetxml.New().Marshal(w.value)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, packet{w.kind, w.id, string(typed(w.kind, w.typeID, string(body)))})
	}
	return out
}

func TestGoldenSessionDecode(t *testing.T) {
	for file, want := range sessions {
		t.Run(file, func(t *testing.T) {
			got, err := decodeStream(readFile(t, file), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(encodeSession(t, want), got); d != "" {
				t.Fatalf("packets (-want +got):\n%s", d)
			}
			// And the bodies decode to the captured values.
			for i, w := range want {
				if w.value == nil {
					continue
				}
				body := got[i].Payload[len(typed(w.kind, w.typeID, "")):]
				v := newLike(w.value)
				if err := dotnetxml.New().Unmarshal([]byte(body), v); err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(w.value, deref(v)); d != "" {
					t.Errorf("packet %d value (-want +got):\n%s", i, d)
				}
			}
		})
	}
}

func TestGoldenSessionEncode(t *testing.T) {
	for file, want := range sessions {
		t.Run(file, func(t *testing.T) {
			p := dotnet.New()
			var out []byte
			for _, pkt := range encodeSession(t, want) {
				if pkt.Kind == base.KindNone {
					out = append(out, p.Heartbeat()...)
					continue
				}
				var err error
				if out, err = p.Append(out, base.Packet{Kind: pkt.Kind, ID: pkt.ID, Payload: []byte(pkt.Payload)}); err != nil {
					t.Fatal(err)
				}
			}
			if want := readFile(t, file); string(out) != string(want) {
				t.Errorf("encoded\n got %q\nwant %q", out, want)
			}
		})
	}
}

// TestGoldenBadInput decodes the bad input the captures sent to a .NET
// server in one write: the garbage first packet is an error, reported
// clearly, and does not swallow the packets after it; each later packet is
// well-formed for the protocol (unknown types and ids are the typed
// layer's and base's business) and encodes back to the captured bytes.
func TestGoldenBadInput(t *testing.T) {
	data := readFile(t, "bad_input.bin")
	got, err := decodeStream(data, 1<<20)
	const garbage = `no ':' after the type id in "garbage-without-separators"`
	if !errors.Is(err, dotnet.ErrMalformed) || !strings.Contains(err.Error(), garbage) {
		t.Fatalf("got %v, want ErrMalformed naming the packet", err)
	}
	want := []packet{
		{malformedKind, 0, err.Error()},
		{base.KindMessage, 0, string(typed(base.KindMessage, "Unknown.Type", "<X/>"))},
		{base.KindRequest, 5, string(typed(base.KindRequest, "Unknown.Req", "<X/>"))},
		{base.KindResponse, 99, string(typed(base.KindResponse, "Interop.WeatherResponse", "<WeatherResponse/>"))},
		{base.KindRequest, 1, string(typed(base.KindRequest, "Interop.WeatherRequest", "<WeatherRequest><City>Exämple</City>...</WeatherRequest>"))},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("packets (-want +got):\n%s", d)
	}
	var r WeatherRequest
	body := want[4].Payload[len(typed(base.KindRequest, "Interop.WeatherRequest", "")):]
	if err := dotnetxml.New().Unmarshal([]byte(body), &r); err != nil || r != (WeatherRequest{City: "Exämple"}) {
		t.Errorf("request body: %+v, %v", r, err)
	}
	var w WeatherResponse
	body = want[3].Payload[len(typed(base.KindResponse, "Interop.WeatherResponse", "")):]
	if err := dotnetxml.New().Unmarshal([]byte(body), &w); err != nil || w != (WeatherResponse{}) {
		t.Errorf("response body: %+v, %v", w, err)
	}

	var out []byte
	for _, pkt := range want[1:] {
		if out, err = dotnet.New().Append(out, base.Packet{Kind: pkt.Kind, ID: pkt.ID, Payload: []byte(pkt.Payload)}); err != nil {
			t.Fatal(err)
		}
	}
	if rest := data[strings.IndexByte(string(data), dotnet.Terminator)+1:]; string(out) != string(rest) {
		t.Errorf("encoded\n got %q\nwant %q", out, rest)
	}
}

// TestGoldenSplits decodes every captured stream cut at every byte (so
// also inside "ä"), and byte by byte: the packets, and the place of the
// malformed one, must not change.
func TestGoldenSplits(t *testing.T) {
	for _, file := range []string{"session_client.bin", "session_server.bin", "bad_input.bin"} {
		data := readFile(t, file)
		whole, werr := decodeStream(data, 1<<20)
		if (werr != nil) != (file == "bad_input.bin") {
			t.Fatalf("%s: %v", file, werr)
		}
		for cut := 1; cut < len(data); cut++ {
			got, err := decodeStream(data, 1<<20, cut)
			if (err == nil) != (werr == nil) {
				t.Fatalf("%s cut at %d: %v, whole: %v", file, cut, err, werr)
			}
			if d := cmp.Diff(whole, got); d != "" {
				t.Fatalf("%s cut at %d (-whole +cut):\n%s", file, cut, d)
			}
		}
		ones := make([]int, len(data))
		for i := range ones {
			ones[i] = 1
		}
		got, err := decodeStream(data, 1<<20, ones...)
		if (err == nil) != (werr == nil) {
			t.Fatalf("%s byte by byte: %v, whole: %v", file, err, werr)
		}
		if d := cmp.Diff(whole, got); d != "" {
			t.Fatalf("%s byte by byte (-whole +got):\n%s", file, d)
		}
	}
}
