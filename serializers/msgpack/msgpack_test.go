package msgpack_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
	"github.com/netmessage-go/netmessage/serializers/msgpack"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var _ sertest.Serializer = msgpack.New()

func TestRoundTrip(t *testing.T) { sertest.RoundTrip(t, msgpack.New(), sertest.MsgPack) }

func TestErrors(t *testing.T) {
	sertest.Errors(t, msgpack.New(), sertest.MsgPack,
		nil, []byte(""), []byte("garbage"), []byte("\xc1"), []byte("\x00"), []byte("\xff\xff"),
		[]byte("\x81\xa4Note"), []byte("\x81\xa4Note\x01"), []byte("\x81\xa5Items\x81\xa1a\x01"), []byte("\x80\x80"),
	)
}

func TestRandomInputDoesNotPanic(t *testing.T) { sertest.Random(t, msgpack.New()) }

func FuzzUnmarshal(f *testing.F) {
	s := msgpack.New()
	for _, seed := range sertest.Seeds(s) {
		f.Add(seed)
	}
	// Hostile shapes, small enough for quick iterations.
	for _, seed := range []string{
		"\x81\xa5Items\xdd\xff\xff\xff\xff",
		"\x81\xa6Header\x81\xa4Tags\xdc\xff\xff",
		"\x81\xa4Note\xdb\xff\xff\xff\xff",
		strings.Repeat("\x81\xa6Header", 40) + "\xc0",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) { sertest.Reencode(t, s, data) })
}

type int64s struct{ A []int64 }

// TestHugeDeclaredLengths guards against vmihailenco/msgpack v5.4.1 sizing
// a slice from the declared length: unchecked, these few bytes make it
// allocate tens of gigabytes and crash the process.
func TestHugeDeclaredLengths(t *testing.T) {
	s := msgpack.New()
	for _, in := range [][]byte{
		[]byte("\x81\xa1A\xdd\xff\xff\xff\xff"),         // array32 of 4G elements
		[]byte("\x81\xa1A\xdc\xff\xff"),                 // array16 of 64K elements
		[]byte("\xdf\xff\xff\xff\xff"),                  // map32 of 4G entries
		[]byte("\x81\xa1A\xc6\xff\xff\xff\xff"),         // bin32 of 4 GiB
		[]byte("\x81\xa1A\xc9\xff\xff\xff\xff\x01"),     // ext32 of 4 GiB
		[]byte("\x81\xa1A\x92\x01\xdd\x7f\xff\xff\xff"), // nested
	} {
		err := s.Unmarshal(in, new(int64s))
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("Unmarshal(%q) = %v, want io.ErrUnexpectedEOF", in, err)
		}
	}
}

func TestDeepNesting(t *testing.T) {
	in := append(bytes.Repeat([]byte{0x91}, 1_000_000), 0xc0) // [[[[...nil...]]]]
	var v any
	err := msgpack.New().Unmarshal(in, &v)
	sertest.WantError(t, "Unmarshal", err, sertest.MsgPack, []string{"nested deeper than 64"})

	in = append(bytes.Repeat([]byte{0x91}, msgpack.MaxDepth), 0xc0)
	if err := msgpack.New().Unmarshal(in, &v); err != nil {
		t.Errorf("%d levels: %v", msgpack.MaxDepth, err)
	}
}

func TestTrailingData(t *testing.T) {
	s := msgpack.New()
	data, err := s.Marshal(sertest.NewSmall())
	if err != nil {
		t.Fatal(err)
	}
	err = s.Unmarshal(append(data, 0xc0), new(sertest.Small))
	sertest.WantError(t, "Unmarshal", err, sertest.MsgPack, []string{"1 bytes of trailing data"})
}

func TestTimeKeepsInstantNotLocation(t *testing.T) {
	s := msgpack.New()
	in := sertest.Times{At: time.Date(2024, 1, 2, 3, 4, 5, 6, time.FixedZone("CET", 3600))}
	data, err := s.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out sertest.Times
	if err := s.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if !out.At.Equal(in.At) || out.At.Location() != time.Local {
		t.Errorf("At = %v in %v, want %v in Local", out.At, out.At.Location(), in.At)
	}
	if out.Zero != (time.Time{}) {
		t.Errorf("Zero = %#v, want time.Time{}", out.Zero)
	}
}

// TestInterfaceNumbersShrink pins a documented loss.
func TestInterfaceNumbersShrink(t *testing.T) {
	s := msgpack.New()
	data, err := s.Marshal(sertest.Dynamic{Value: 5})
	if err != nil {
		t.Fatal(err)
	}
	var got sertest.Dynamic
	if err := s.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Value != int8(5) {
		t.Errorf("got %T %v, want int8 5", got.Value, got.Value)
	}
}

type node struct {
	Name string
	Next *node
}

func TestMarshalRejectsCycles(t *testing.T) {
	n := &node{Name: "a"}
	n.Next = &node{Name: "b", Next: n}
	_, err := msgpack.New().Marshal(n)
	sertest.WantError(t, "Marshal", err, sertest.MsgPack, []string{"*msgpack_test.node", "reference cycle"})
}

func TestFieldNamesAreKeys(t *testing.T) {
	data, err := msgpack.New().Marshal(struct{ Seq int }{Seq: 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte("\x81\xa3Seq\x01"); !bytes.Equal(data, want) {
		t.Errorf("Marshal = %q, want %q", data, want)
	}
}

func TestMarshalAppend(t *testing.T) {
	s := msgpack.New()
	prefix := []byte("head")
	got, err := s.MarshalAppend(prefix, struct{ Seq int }{Seq: 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte("head\x81\xa3Seq\x01"); !bytes.Equal(got, want) {
		t.Errorf("MarshalAppend = %q, want %q", got, want)
	}
	// An encoding that fails midway leaves dst as it was.
	buf := append(make([]byte, 0, 64), "keep"...)
	got, err = s.MarshalAppend(buf, struct {
		Seq  int
		Fail failing
	}{Seq: 1})
	if err == nil {
		t.Fatal("MarshalAppend of a cycle succeeded")
	}
	if string(got) != "keep" {
		t.Errorf("MarshalAppend after an error = %q, want %q", got, "keep")
	}
	// Encodings made one after another from the pooled encoder do not
	// share memory.
	a, _ := s.Marshal(struct{ S string }{S: "first"})
	b, _ := s.Marshal(struct{ S string }{S: "other"})
	if bytes.Equal(a, b) || !bytes.Contains(a, []byte("first")) {
		t.Errorf("Marshal results share memory: %q, %q", a, b)
	}
}

// failing fails to encode itself.
type failing struct{}

func (failing) MarshalBinary() ([]byte, error) { return nil, errors.New("cannot encode") }
