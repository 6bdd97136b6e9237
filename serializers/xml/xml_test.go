package xml_test

import (
	stdxml "encoding/xml"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
	"github.com/netmessage-go/netmessage/serializers/xml"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var _ sertest.Serializer = xml.New()

func TestRoundTrip(t *testing.T) { sertest.RoundTrip(t, xml.New(), sertest.XML) }

func TestErrors(t *testing.T) {
	sertest.Errors(t, xml.New(), sertest.XML,
		nil, []byte(""), []byte("garbage"), []byte("<<<"), []byte("\x00"), []byte("<Envelope>"),
		[]byte("<Envelope><Note>&#0;</Note></Envelope>"), []byte("<Envelope><Note>\x04</Note></Envelope>"),
		[]byte("<Envelope></Other>"), []byte("text<Envelope></Envelope>"), []byte("<Envelope></Envelope><x/>"),
	)
}

func TestRandomInputDoesNotPanic(t *testing.T) { sertest.Random(t, xml.New()) }

func FuzzUnmarshal(f *testing.F) {
	s := xml.New()
	for _, seed := range sertest.Seeds(s) {
		f.Add(seed)
	}
	// Hostile shapes, small enough for quick iterations.
	for _, seed := range []string{
		"<Envelope>" + strings.Repeat("<a>", 40),
		`<!DOCTYPE Envelope [<!ENTITY a "x"><!ENTITY b "&a;&a;">]><Envelope><Note>&b;</Note></Envelope>`,
		`<!DOCTYPE Envelope [<!ENTITY x SYSTEM "file:///etc/passwd">]><Envelope><Note>&x;</Note></Envelope>`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) { sertest.Reencode(t, s, data) })
}

// TestLibraryCorruptsControlBytes documents why Marshal checks text: left
// alone, encoding/xml replaces NUL and 0x04 with U+FFFD without an error,
// and writes []byte as raw text rather than base64.
func TestLibraryCorruptsControlBytes(t *testing.T) {
	out, err := stdxml.Marshal(sertest.Binary{Data: []byte("a\x00\x04"), Name: "b\x00"})
	want := "<Binary><Data>a\uFFFD\uFFFD</Data><Name>b\uFFFD</Name></Binary>"
	if err != nil || string(out) != want {
		t.Errorf("encoding/xml changed behaviour (revisit the text checks): got %q, %v; want %q", out, err, want)
	}
}

func TestTimeZoneOffsetIsPreserved(t *testing.T) {
	s := xml.New()
	in := time.Date(2024, 1, 2, 3, 4, 5, 6, time.FixedZone("CET", 3600))
	data, err := s.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := "<Time>2024-01-02T03:04:05.000000006+01:00</Time>"; string(data) != want {
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

func TestTopLevelScalar(t *testing.T) {
	s := xml.New()
	data, err := s.Marshal("héllo <&>")
	if err != nil {
		t.Fatal(err)
	}
	if want := "<string>héllo &lt;&amp;&gt;</string>"; string(data) != want {
		t.Errorf("Marshal = %s, want %s", data, want)
	}
	var p *string // Unmarshal allocates through pointers to pointers
	if err := s.Unmarshal(data, &p); err != nil || p == nil || *p != "héllo <&>" {
		t.Errorf("Unmarshal = %v, %v", p, err)
	}
}

func TestRootElementMustMatchTarget(t *testing.T) {
	s := xml.New()
	data, err := s.Marshal(sertest.NewSmall())
	if err != nil {
		t.Fatal(err)
	}
	err = s.Unmarshal(data, new(sertest.Envelope))
	sertest.WantError(t, "Unmarshal", err, sertest.XML, []string{"*sertest.Envelope", "root element <Small>", "want <Envelope>"})
}

type named struct {
	XMLName stdxml.Name `xml:"ping"`
	Seq     int         `xml:"seq,attr"`
}

func TestXMLNameAndAttributes(t *testing.T) {
	s := xml.New()
	data, err := s.Marshal(named{Seq: 3})
	if err != nil {
		t.Fatal(err)
	}
	if want := `<ping seq="3"></ping>`; string(data) != want {
		t.Errorf("Marshal = %s, want %s", data, want)
	}
	var got named
	if err := s.Unmarshal([]byte("<?xml version=\"1.0\"?>\n<!-- c -->"+string(data)+"\n<!-- c -->\n"), &got); err != nil || got.Seq != 3 {
		t.Errorf("Unmarshal = %+v, %v", got, err)
	}
	sertest.WantError(t, "Unmarshal", s.Unmarshal([]byte("<pong/>"), &got), sertest.XML, []string{"expected element type <ping>"})
}

type node struct {
	Name string
	Next *node
}

func TestMarshalRejectsCycles(t *testing.T) {
	n := &node{Name: "a"}
	n.Next = &node{Name: "b", Next: n}
	_, err := xml.New().Marshal(n)
	sertest.WantError(t, "Marshal", err, sertest.XML, []string{"*xml_test.node", "reference cycle"})
}

func TestMarshalRejectsNil(t *testing.T) {
	s := xml.New()
	_, err := s.Marshal(nil)
	sertest.WantError(t, "Marshal", err, sertest.XML, []string{"nil value"})
	_, err = s.Marshal((*sertest.Small)(nil))
	sertest.WantError(t, "Marshal", err, sertest.XML, []string{"*sertest.Small", "nil pointer"})
}

func TestErrorNamesDeepField(t *testing.T) {
	v := sertest.Envelope{Items: []sertest.Item{{Name: "ok"}, {Name: "bad\x00"}}}
	_, err := xml.New().Marshal(&v)
	sertest.WantError(t, "Marshal", err, sertest.XML, []string{"*sertest.Envelope", "field Items[1].Name (string)", "U+0000 at byte offset 3"})
}
