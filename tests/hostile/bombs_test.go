package hostile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/serializers/json"
	"github.com/netmessage-go/netmessage/serializers/msgpack"
	"github.com/netmessage-go/netmessage/serializers/xml"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// typed returns a typed-layer payload: the type id header and the body.
func typed(id string, body []byte) []byte {
	return append(binary.AppendUvarint(nil, uint64(len(id))), append([]byte(id), body...)...)
}

// bomb is a payload sent as a request and as a message to a typed server.
type bomb struct {
	name    string
	payload []byte
	code    netmessage.ErrorCode // the remote error the request must get
	want    []string             // substrings of the error text (and event)
}

// aimed returns a bomb with body as a Target's payload, which the server
// must refuse as a bad request naming the target type.
func aimed(name string, body []byte, want ...string) bomb {
	return bomb{name: name, payload: typed(targetID, body), code: netmessage.CodeBadRequest,
		want: append([]string{"unmarshal", "hostile.Target: ", "*hostile.Target"}, want...)}
}

func laughs() []byte {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE Target [<!ENTITY l0 "lol">`)
	for i := 1; i <= 9; i++ {
		b.WriteString("<!ENTITY l" + string(rune('0'+i)) + ` "` + strings.Repeat("&l"+string(rune('0'+i-1))+";", 10) + `">`)
	}
	b.WriteString(`]><Target><Name>&l9;</Name></Target>`)
	return []byte(b.String())
}

// bombSets are the bombs per serializer; the msgpack set also has the
// typed layer's own malformed headers.
var bombSets = []struct {
	ser   netmessage.Serializer
	bombs []bomb
}{
	{msgpack.New(), []bomb{
		aimed("array32 of 4G elements", []byte("\xdd\xff\xff\xff\xff"), "array at offset 0 declares 4294967295 elements"),
		aimed("map32 of 4G entries", []byte("\xdf\xff\xff\xff\xff"), "map at offset 0 declares 4294967295 entries"),
		aimed("str32 of 4 GiB", []byte("\xdb\xff\xff\xff\xff"), "string at offset 0 declares 4294967295 bytes"),
		aimed("bin32 of 4 GiB", []byte("\xc6\xff\xff\xff\xff"), "binary at offset 0 declares 4294967295 bytes"),
		aimed("ext32 of 4 GiB", []byte("\xc9\xff\xff\xff\xff\x01"), "extension at offset 0 declares 4294967296 bytes"),
		aimed("array32 in a field", []byte("\x81\xa5Items\xdd\xff\xff\xff\xff"), "array at offset 7 declares 4294967295 elements"),
		aimed("bin32 in a field", []byte("\x81\xa4Data\xc6\xff\xff\xff\xff"), "binary at offset 6 declares 4294967295 bytes"),
		aimed("1M nested arrays", append(bytes.Repeat([]byte{0x91}, 1_000_000), 0xc0), "containers nested deeper than 64"),
		{name: "type id length of 2^64-1", payload: []byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
			code: netmessage.CodeBadRequest, want: []string{"bad type id header"}},
		{name: "type id of 1025 bytes", payload: typed(strings.Repeat("x", 1025), nil),
			code: netmessage.CodeBadRequest, want: []string{"bad type id header"}},
		{name: "unknown type id", payload: typed("hostile.Nothing", []byte{0x80}),
			code: netmessage.CodeUnhandled, want: []string{"no handler for hostile.Nothing"}},
	}},
	{json.New(), []bomb{
		aimed("1M nested arrays", []byte(strings.Repeat("[", 1_000_000)), "nested deeper than 64"),
		aimed("500k nested objects in a field", []byte(`{"Items":`+strings.Repeat(`{"a":`, 500_000)), "nested deeper than 64"),
		aimed("1 MB number", []byte(`{"ID":`+strings.Repeat("9", 1<<20)+`}`), "cannot unmarshal number", "bytes elided"),
	}},
	{xml.New(), []bomb{
		aimed("1M nested elements", []byte("<Target>"+strings.Repeat("<a>", 1_000_000)), "elements nested deeper than 32"),
		aimed("billion laughs", laughs(), "invalid character entity &l9;"),
		aimed("external entity", []byte(`<!DOCTYPE Target [<!ENTITY x SYSTEM "file:///etc/passwd">]><Target><Name>&x;</Name></Target>`),
			"invalid character entity &x;"),
	}},
}

// TestBombsEndToEnd sends each bomb to a typed server using the bomb's
// serializer, from a transport-level client, first as a request and then
// as a message. The request is refused with a *RemoteError of the
// expected code whose text names the target type and the reason; both
// raise an error event (an unhandled event for an unknown type) on the
// server; the bomb's session stays open, and the process allocates a small
// multiple of the payload. Afterwards a healthy typed session on the same
// server still works. It runs in a child process with a memory limit.
func TestBombsEndToEnd(t *testing.T) {
	if inChild(t) {
		return
	}
	for _, set := range bombSets {
		t.Run(set.ser.Name(), func(t *testing.T) {
			s := startServer(t, netmessage.WithSerializer(set.ser))
			h := s.connectHealthy(t, netmessage.WithSerializer(set.ser))
			c := base.NewClient(native.New)
			testutil.Must(t, c.Connect(testutil.Ctx(t), s.addr))
			testutil.CloseClient(t, c, c)
			sess := testutil.Recv(t, s.opened, "bomb session opened")
			for _, b := range set.bombs {
				t.Run(b.name, func(t *testing.T) {
					s.deliver(t, c, sess, b)
					h.check(t)
				})
			}
			// The bomb session is still open and serves valid requests.
			resp, err := c.Request(testutil.Ctx(t), typed(targetID, encodeTarget(t, set.ser)))
			if err != nil || len(resp) == 0 || resp[0] != 0 {
				t.Fatalf("valid request after the bombs: %q, %v", resp, err)
			}
			if err := sess.Err(); err != nil {
				t.Fatalf("bomb session closed: %v", err)
			}
		})
	}
}

// deliver sends b as a request and as a message on c, whose session on s
// is sess, and checks the answers, events and allocation.
func (s *server) deliver(t *testing.T, c *base.Client, sess *base.Session, b bomb) {
	t.Helper()
	before := allocated(true)
	start := time.Now()
	resp, err := c.Request(testutil.Ctx(t), b.payload)
	elapsed := time.Since(start)
	alloc := allocated(false) - before
	testutil.Must(t, err)
	if len(resp) == 0 || netmessage.ErrorCode(resp[0]) != b.code {
		t.Fatalf("response %.200q, want a %v", resp, b.code)
	}
	text := string(resp[1:])
	for _, w := range b.want {
		if !strings.Contains(text, w) {
			t.Errorf("remote error %q does not contain %q", text, w)
		}
	}
	bound := 64*uint64(len(b.payload)) + 1<<20
	t.Logf("figure: %s: %d-byte payload, %d allocated, answered in %v: %d: %s",
		t.Name(), len(b.payload), alloc, elapsed.Round(10*time.Microsecond), b.code, text)
	if alloc > bound {
		t.Errorf("the process allocated %d bytes for a %d-byte payload, over %d", alloc, len(b.payload), bound)
	}
	s.expectPayloadEvent(t, sess, b)

	testutil.Must(t, c.SendMessage(testutil.Ctx(t), b.payload))
	s.expectPayloadEvent(t, sess, b)
	select {
	case m := <-s.targets:
		t.Fatalf("the bomb reached the message handler as %+v", m)
	default:
	}
}

// expectPayloadEvent waits for the event a refused payload raises: an
// unhandled event for an unknown type, else an error event of sess whose
// text has b's substrings.
func (s *server) expectPayloadEvent(t *testing.T, sess *base.Session, b bomb) {
	t.Helper()
	if b.code == netmessage.CodeUnhandled {
		if got := testutil.Recv(t, s.unhandled, "unhandled event"); !strings.HasSuffix(got, " hostile.Nothing") {
			t.Errorf("unhandled event %q", got)
		}
		return
	}
	ev := testutil.Recv(t, s.errs, "error event")
	if ev.p != sess {
		t.Fatalf("error event from %v, want the bomb session: %v", ev.p, ev.err)
	}
	var ce *base.CloseError
	if errors.As(ev.err, &ce) {
		t.Fatalf("the bomb closed its session: %v", ev.err)
	}
	for _, w := range b.want {
		if !strings.Contains(ev.err.Error(), w) {
			t.Errorf("error event %q does not contain %q", ev.err, w)
		}
	}
}

// encodeTarget returns a valid Target body.
func encodeTarget(t *testing.T, ser netmessage.Serializer) []byte {
	t.Helper()
	b, err := ser.Marshal(Target{ID: 1, Name: "ok", Items: []Item{{Name: "a", Qty: 1}}, Data: []byte("data")})
	testutil.Must(t, err)
	return b
}
