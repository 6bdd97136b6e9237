package json_test

import (
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
	"github.com/netmessage-go/netmessage/serializers/json"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var _ sertest.Serializer = json.New()

func TestRoundTrip(t *testing.T) { sertest.RoundTrip(t, json.New(), sertest.JSON) }

func TestErrors(t *testing.T) {
	sertest.Errors(t, json.New(), sertest.JSON,
		nil, []byte(""), []byte("garbage"), []byte("{{{{"), []byte("\x00"), []byte(`{"Note":`),
		[]byte(`{"Note":"\x00"}`), []byte(`{"Note":1}`), []byte(`[1,2]`), []byte(`{} {}`), []byte(`{"Items":{}}`),
	)
}

func TestRandomInputDoesNotPanic(t *testing.T) { sertest.Random(t, json.New()) }

func FuzzUnmarshal(f *testing.F) {
	s := json.New()
	for _, seed := range sertest.Seeds(s) {
		f.Add(seed)
	}
	// Hostile shapes, small enough for quick iterations.
	for _, seed := range []string{
		`{"Items":` + strings.Repeat("[", 40),
		`{"Header":{"ID":` + strings.Repeat("9", 400) + `}}`,
		`{"Items":[{},{},{}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) { sertest.Reencode(t, s, data) })
}

func TestNULAndControlBytesRoundTrip(t *testing.T) {
	s := json.New()
	data, err := s.Marshal(sertest.Text{Note: "a\x00b\x04"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"Body":"","Note":"a\u0000b\u0004"}`; string(data) != want {
		t.Errorf("Marshal = %s, want %s", data, want)
	}
}

func TestTimeZoneOffsetIsPreserved(t *testing.T) {
	s := json.New()
	in := time.Date(2024, 1, 2, 3, 4, 5, 6, time.FixedZone("CET", 3600))
	data, err := s.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"2024-01-02T03:04:05.000000006+01:00"`; string(data) != want {
		t.Errorf("Marshal = %s, want %s", data, want)
	}
	var out time.Time
	if err := s.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if _, off := out.Zone(); !out.Equal(in) || off != 3600 {
		t.Errorf("got %v (offset %d), want %v", out, off, in)
	}
}

func TestInterfaceValuesAreChecked(t *testing.T) {
	_, err := json.New().Marshal(sertest.Dynamic{Value: []any{"ok", make(chan int)}})
	sertest.WantError(t, "Marshal", err, sertest.JSON, []string{"sertest.Dynamic", "field Value[1] (chan int)", "no representation for chan"})
	_, err = json.New().Marshal(map[string]any{"k": "bad\xff"})
	sertest.WantError(t, "Marshal", err, sertest.JSON, []string{`field ["k"] (string)`, "invalid UTF-8"})
}

// TestInterfaceNumbersBecomeFloat64 pins a documented loss.
func TestInterfaceNumbersBecomeFloat64(t *testing.T) {
	s := json.New()
	data, err := s.Marshal(sertest.Dynamic{Value: 5})
	if err != nil {
		t.Fatal(err)
	}
	var got sertest.Dynamic
	if err := s.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Value != float64(5) {
		t.Errorf("got %T %v, want float64 5", got.Value, got.Value)
	}
}

type node struct {
	Name string
	Next *node
}

func TestMarshalRejectsCycles(t *testing.T) {
	n := &node{Name: "a"}
	n.Next = &node{Name: "b", Next: n}
	_, err := json.New().Marshal(n)
	sertest.WantError(t, "Marshal", err, sertest.JSON, []string{"*json_test.node", "reference cycle"})

	s := make([]sertest.Tree, 1)
	s[0].Children = s
	_, err = json.New().Marshal(s)
	sertest.WantError(t, "Marshal", err, sertest.JSON, []string{"[]sertest.Tree", "reference cycle"})
}
