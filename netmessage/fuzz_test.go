package netmessage

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/serializers/json"
	"github.com/netmessage-go/netmessage/serializers/msgpack"
	"github.com/netmessage-go/netmessage/serializers/xml"
)

type fuzzAnswer struct {
	Text string
	N    int
}

type fuzzAsk struct {
	Returns[fuzzAnswer]
	Text string
	N    int
	Tags []string
}

type fuzzNote struct {
	Text string
}

// Short explicit ids, so that the fuzzer finds them.
const (
	askID    = "f.Ask"
	answerID = "f.Answer"
	noteID   = "f.Note"
)

var fuzzSerializers = []Serializer{msgpack.New(), json.New(), xml.New()}

// fuzzRouter is a Mux with a handler for fuzzAsk requests (answering
// with its text and number) and fuzzNote messages, and a session to call
// it with; the error events raised on the session go to errs.
type fuzzRouter struct {
	m     *Mux
	s     *base.Session
	errs  []error
	notes []fuzzNote
}

// fuzzSession is the session the checks call their Mux with; its error
// events go to the fuzzRouter of the check under way.
type fuzzSession struct {
	s   *base.Session
	mu  sync.Mutex
	cur *fuzzRouter
}

var fuzzLoop fuzzSession

func (fs *fuzzSession) report(err error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.cur != nil {
		fs.cur.errs = append(fs.cur.errs, err)
	}
}

func newFuzzRouter(t *testing.T, ser Serializer) *fuzzRouter {
	m, err := NewMux(WithSerializer(ser),
		WithTypeID[fuzzAsk](askID), WithTypeID[fuzzAnswer](answerID), WithTypeID[fuzzNote](noteID))
	if err != nil {
		t.Fatal(err)
	}
	f := &fuzzRouter{m: m, s: fuzzLoop.s}
	fuzzLoop.mu.Lock()
	fuzzLoop.cur = f
	fuzzLoop.mu.Unlock()
	if err := HandleRequest(m, func(_ context.Context, _ *base.Session, q fuzzAsk) (fuzzAnswer, error) {
		return fuzzAnswer{Text: q.Text, N: q.N}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := HandleMessage(m, func(_ context.Context, _ *base.Session, n fuzzNote) { f.notes = append(f.notes, n) }); err != nil {
		t.Fatal(err)
	}
	return f
}

// maxRemoteMessage bounds the text of a bad-request response: the type id
// (at most maxTypeIDLen bytes), the serializer's message (cut at 512
// bytes by the serializers of this module) and the wrapping.
const maxRemoteMessage = maxTypeIDLen + 1024

// FuzzDecode feeds arbitrary payloads to the typed layer as it receives
// them from the transport: a message, a request (whose response must be
// well-formed), and a response. For each serializer of this SDK it checks
// that nothing panics, that the type id header is parsed exactly, that a
// request decodes or is answered with CodeBadRequest or CodeUnhandled and
// an error event, and that the answer to a decodable request is the one
// the handler gave.
func FuzzDecode(f *testing.F) {
	for i, ser := range fuzzSerializers {
		which := uint8(i)
		ask, err := appendPayload(nil, ser, askID, fuzzAsk{Text: "hi", N: 7, Tags: []string{"a"}})
		if err != nil {
			f.Fatal(err)
		}
		note, err := appendPayload(nil, ser, noteID, fuzzNote{Text: "note"})
		if err != nil {
			f.Fatal(err)
		}
		ok, err := encodeOK(ser, answerID, fuzzAnswer{Text: "hi", N: 7}, 0)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(which, ask)
		f.Add(which, note)
		f.Add(which, ok)
		f.Add(which, ask[:len(ask)-1])
		f.Add(which, appendHeader(nil, askID))
		f.Add(which, appendHeader(nil, "f.Other"))
		f.Add(which, encodeFailure(statusBadRequest, "bad"))
	}
	f.Add(uint8(0), append(appendHeader(nil, askID), "\xdd\xff\xff\xff\xff"...))
	f.Add(uint8(0), append(appendHeader(nil, askID), bytes.Repeat([]byte{0x91}, 20000)...))
	f.Add(uint8(1), append(appendHeader(nil, askID), bytes.Repeat([]byte("["), 20000)...))
	f.Add(uint8(2), append(appendHeader(nil, askID), bytes.Repeat([]byte("<a>"), 20000)...))
	f.Add(uint8(0), []byte{})
	f.Add(uint8(0), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add(uint8(0), []byte{0x80, 0x08, 'x'})
	f.Add(uint8(0), binary.AppendUvarint(nil, maxTypeIDLen+1))

	fuzzLoop.s = loopSession(f, fuzzLoop.report)
	f.Fuzz(func(t *testing.T, which uint8, payload []byte) {
		ser := fuzzSerializers[int(which)%len(fuzzSerializers)]
		checkHeader(t, payload)
		checkMessage(t, ser, payload)
		checkRequest(t, ser, payload)
		checkResponse(t, ser, payload)
	})
}

// checkHeader: splitHeader takes exactly the declared id, within the
// limit, and the rest is the body.
func checkHeader(t *testing.T, payload []byte) {
	id, body, err := splitHeader(payload)
	if err != nil {
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("splitHeader error %v does not match ErrMalformed", err)
		}
		return
	}
	n, k := binary.Uvarint(payload)
	if k <= 0 || n != uint64(len(id)) || len(id) > maxTypeIDLen {
		t.Fatalf("splitHeader(%q) gave a %d-byte id for a header declaring %d", payload, len(id), n)
	}
	if !bytes.Equal(payload[k:], append(bytes.Clone(id), body...)) {
		t.Fatalf("splitHeader(%q) = %q, %q: not the bytes after the header", payload, id, body)
	}
	again, rest, err := splitHeader(append(appendHeader(nil, string(id)), body...))
	if err != nil || !bytes.Equal(again, id) || !bytes.Equal(rest, body) {
		t.Fatalf("re-encoded header of %q: %q, %q, %v", id, again, rest, err)
	}
}

func checkMessage(t *testing.T, ser Serializer, payload []byte) {
	fr := newFuzzRouter(t, ser)
	fr.m.ServeMessage(context.Background(), fr.s, payload)
	id, body, err := splitHeader(payload)
	if err != nil || string(id) != noteID {
		if len(fr.notes) != 0 {
			t.Fatalf("message %q reached the note handler", payload)
		}
		return
	}
	var want fuzzNote
	if ser.Unmarshal(body, &want) != nil {
		if len(fr.notes) != 0 || len(fr.errs) != 1 {
			t.Fatalf("undecodable note %q: %d handled, %d error events", payload, len(fr.notes), len(fr.errs))
		}
		return
	}
	if len(fr.notes) != 1 || len(fr.errs) != 0 || !cmp.Equal(fr.notes[0], want) {
		t.Fatalf("note %q: handled %v with error events %v, want %v", payload, fr.notes, fr.errs, want)
	}
}

func checkRequest(t *testing.T, ser Serializer, payload []byte) {
	fr := newFuzzRouter(t, ser)
	resp := fr.m.ServeRequest(context.Background(), fr.s, payload)
	id, body, rerr := decodeResponse(resp)
	var re *RemoteError
	if rerr != nil && !errors.As(rerr, &re) {
		t.Fatalf("request %q: malformed response %q: %v", payload, resp, rerr)
	}
	if re != nil && len(re.Message) > maxRemoteMessage {
		t.Fatalf("request %q: %d-byte error text", payload, len(re.Message))
	}

	reqID, reqBody, err := splitHeader(payload)
	switch {
	case err != nil:
		if re == nil || re.Code != CodeBadRequest || len(fr.errs) != 1 {
			t.Fatalf("request %q with a bad header: %v, %d error events", payload, rerr, len(fr.errs))
		}
		return
	case string(reqID) != askID:
		if re == nil || re.Code != CodeUnhandled || len(fr.errs) != 0 {
			t.Fatalf("request %q of unknown type: %v, %d error events", payload, rerr, len(fr.errs))
		}
		return
	}
	var q fuzzAsk
	if ser.Unmarshal(reqBody, &q) != nil {
		if re == nil || re.Code != CodeBadRequest || len(fr.errs) != 1 {
			t.Fatalf("undecodable request %q: %v, %d error events", payload, rerr, len(fr.errs))
		}
		return
	}
	if rerr != nil {
		// The handler's answer may not encode: json and xml refuse some
		// strings a lenient decoder let through.
		if re.Code != CodeHandler || len(fr.errs) != 1 {
			t.Fatalf("request %q: %v, %d error events", payload, rerr, len(fr.errs))
		}
		return
	}
	var a fuzzAnswer
	if string(id) != answerID || ser.Unmarshal(body, &a) != nil || a != (fuzzAnswer{Text: q.Text, N: q.N}) {
		t.Fatalf("request %q decoded as %+v: answered %q", payload, q, resp)
	}
}

// checkResponse decodes payload as a response the way Request does.
func checkResponse(t *testing.T, ser Serializer, payload []byte) {
	id, body, err := decodeResponse(payload)
	if err != nil {
		var re *RemoteError
		if !errors.As(err, &re) && !errors.Is(err, ErrMalformed) {
			t.Fatalf("decodeResponse(%q): %v", payload, err)
		}
		if re != nil && (re.Code == 0 || re.Code != ErrorCode(payload[0]) || re.Message != string(payload[1:])) {
			t.Fatalf("decodeResponse(%q) = %#v", payload, re)
		}
		return
	}
	if payload[0] != statusOK || len(id) > maxTypeIDLen {
		t.Fatalf("decodeResponse(%q) accepted id %q", payload, id)
	}
	var a fuzzAnswer
	_ = ser.Unmarshal(body, &a) // must not panic
}
