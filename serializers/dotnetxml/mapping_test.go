package dotnetxml_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/netmessage-go/netmessage/serializers/dotnetxml"
)

// roundTrip marshals v, checks the document, unmarshals it into a new
// value of v's type and checks that it equals v.
func roundTrip[T any](t *testing.T, v T, want string) {
	t.Helper()
	s := dotnetxml.New()
	b, err := s.Marshal(v)
	if err != nil {
		t.Fatalf("Marshal(%#v): %v", v, err)
	}
	if string(b) != want {
		t.Errorf("Marshal(%#v)\n got %s\nwant %s", v, b, want)
	}
	var got T
	if err := s.Unmarshal(b, &got); err != nil {
		t.Fatalf("Unmarshal(%s): %v", b, err)
	}
	if d := cmp.Diff(v, got); d != "" {
		t.Errorf("round trip of %s (-want +got):\n%s", b, d)
	}
}

type Scalars struct {
	I8  int8
	I16 int16
	I   int
	U8  uint8
	U16 uint16
	U32 uint32
	U   uint
	U64 uint64
	F   float32
}

func TestScalars(t *testing.T) {
	roundTrip(t, Scalars{-8, -16, math.MinInt32, 255, 65535, math.MaxUint32, 7, math.MaxUint64, 1.5},
		"<Scalars><I8>-8</I8><I16>-16</I16><I>-2147483648</I><U8>255</U8><U16>65535</U16><U32>4294967295</U32><U>7</U><U64>18446744073709551615</U64><F>1.5</F></Scalars>")
}

func TestDoubleForms(t *testing.T) {
	tenth, fifth := 0.1, 0.2
	point3 := tenth + fifth
	for _, c := range []struct {
		f    float64
		want string
	}{
		{3.25, "3.25"}, {0, "0"}, {-1, "-1"}, {0.1, "0.1"}, {point3, "0.30000000000000004"},
		{1e14, "100000000000000"}, {1e15, "1E+15"}, {123456789012345680, "1.2345678901234568E+17"},
		{0.0001, "0.0001"}, {0.00001, "1E-05"}, {-2.5e-10, "-2.5E-10"}, {math.MaxFloat64, "1.7976931348623157E+308"},
		{5e-324, "5E-324"}, {math.Inf(1), "INF"}, {math.Inf(-1), "-INF"},
	} {
		roundTrip(t, c.f, "<double>"+c.want+"</double>")
	}
	roundTrip(t, float32(1e7), "<float>1E+07</float>")
	roundTrip(t, float32(1234567), "<float>1234567</float>")

	b, err := dotnetxml.New().Marshal(math.NaN())
	if err != nil || string(b) != "<double>NaN</double>" {
		t.Errorf("NaN: %s, %v", b, err)
	}
	var f float64
	if err := dotnetxml.New().Unmarshal(b, &f); err != nil || !math.IsNaN(f) {
		t.Errorf("NaN back: %v, %v", f, err)
	}
	for _, bad := range []string{"Inf", "0x1p3", "1_000", "abc", ""} {
		if err := dotnetxml.New().Unmarshal([]byte("<double>"+bad+"</double>"), &f); err == nil {
			t.Errorf("Unmarshal of double %q succeeded", bad)
		}
	}
}

func TestTopLevel(t *testing.T) {
	roundTrip(t, true, "<boolean>true</boolean>")
	roundTrip(t, int64(-5), "<long>-5</long>")
	roundTrip(t, []string{"a", ""}, "<ArrayOfString><string>a</string><string /></ArrayOfString>")
	roundTrip(t, []Inner{{"a", 1}}, "<ArrayOfInner><Inner><Name>a</Name><Value>1</Value></Inner></ArrayOfInner>")
	roundTrip(t, [][]int32{{1}, {}}, "<ArrayOfArrayOfInt><ArrayOfInt><int>1</int></ArrayOfInt><ArrayOfInt /></ArrayOfArrayOfInt>")
	roundTrip(t, []byte{1, 2}, "<base64Binary>AQI=</base64Binary>")
	roundTrip(t, High, "<Level>High</Level>")
	roundTrip(t, []Level{Low, High}, "<ArrayOfLevel><Level>Low</Level><Level>High</Level></ArrayOfLevel>")
	roundTrip(t, time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC), "<dateTime>2026-01-02T03:04:05.0000006Z</dateTime>")
	roundTrip(t, dotnetxml.Guid{0xff, 15: 1}, "<guid>ff000000-0000-0000-0000-000000000001</guid>")
}

// Nullable shows .NET's null (left out) against empty values.
type Nullable struct {
	S     string
	PS    *string
	List  []string
	Bytes []byte
	Child *Inner
	Value Inner
	PInt  *int32
}

func TestNullAndEmpty(t *testing.T) {
	empty := ""
	zero := int32(0)
	roundTrip(t, Nullable{}, "<Nullable><Value><Value>0</Value></Value></Nullable>")
	roundTrip(t, Nullable{PS: &empty, List: []string{}, Bytes: []byte{}, Child: &Inner{}, PInt: &zero},
		"<Nullable><PS /><List /><Bytes /><Child><Value>0</Value></Child><Value><Value>0</Value></Value><PInt>0</PInt></Nullable>")

	var got Nullable
	in := `<Nullable xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><PS xsi:nil="true" /><PInt xsi:nil="true"/><S></S></Nullable>`
	if err := dotnetxml.New().Unmarshal([]byte(in), &got); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(Nullable{}, got); d != "" {
		t.Errorf("xsi:nil (-want +got):\n%s", d)
	}
}

func TestTextEscaping(t *testing.T) {
	roundTrip(t, "a<b>&\"'\t\n\r\nz", "<string>a&lt;b&gt;&amp;\"'\t\n&#xD;\nz</string>")
	for _, bad := range []string{"a\x04b", "nul\x00", "\xff", "\uFFFE"} {
		_, err := dotnetxml.New().Marshal(bad)
		if err == nil || !strings.Contains(err.Error(), "byte offset") {
			t.Errorf("Marshal(%q) = %v, want an error naming the offset", bad, err)
		}
	}
	var s string
	if err := dotnetxml.New().Unmarshal([]byte("<string>a\r\nb&#xD;&#13;<![CDATA[<c>]]></string>"), &s); err != nil || s != "a\nb\r\r<c>" {
		t.Errorf("Unmarshal: %q, %v", s, err)
	}
}

// Forecast is sent as the .NET class WeatherResponse.
type Forecast struct {
	Summary string `dotnet:"Forecast"`
	Secret  string `dotnet:"-"`
}

func (Forecast) DotNetName() string { return "WeatherResponse" }

type Base struct{ ID int64 }

type Derived struct {
	Base
	Name string
}

func TestNamesAndEmbedding(t *testing.T) {
	roundTrip(t, Forecast{Summary: "sunny"}, "<WeatherResponse><Forecast>sunny</Forecast></WeatherResponse>")
	roundTrip(t, []Forecast{{Summary: "a"}}, "<ArrayOfWeatherResponse><WeatherResponse><Forecast>a</Forecast></WeatherResponse></ArrayOfWeatherResponse>")
	roundTrip(t, Derived{Base{1}, "n"}, "<Derived><ID>1</ID><Name>n</Name></Derived>")
	if got := dotnetxml.ClassName(reflectTypeOf(&Forecast{})); got != "WeatherResponse" {
		t.Errorf("ClassName = %q", got)
	}
}

func TestDecodeLeniency(t *testing.T) {
	in := `<?xml version="1.0" encoding="utf-8"?>
<!-- from .NET -->
<Everything xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <Int> 7 </Int>
  <Text>first</Text>
  stray text
  <Unknown><Int>99</Int></Unknown>
  <Tags><string>a</string><other>skipped</other><string>b</string></Tags>
  <Flag>1</Flag>
  <When>2026-11-25T13:14:15.1234567+01:00</When>
  <WhenUtc>2026-11-25T13:14:15.5Z</WhenUtc>
  <Id>{0F8FAD5B-D9CB-469F-A165-70867728950E}</Id>
</Everything>
`
	var got Everything
	if err := dotnetxml.New().Unmarshal([]byte(in), &got); err != nil {
		t.Fatal(err)
	}
	want := Everything{
		Text: "first", Int: 7, Tags: []string{"a", "b"}, Flag: true,
		When:    time.Date(2026, 11, 25, 12, 14, 15, 123456700, time.UTC).In(time.Local),
		WhenUtc: time.Date(2026, 11, 25, 13, 14, 15, 5e8, time.UTC),
		Id:      mustGuid(t, "0f8fad5b-d9cb-469f-a165-70867728950e"),
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if got.When.Location() != time.Local || got.WhenUtc.Location() != time.UTC {
		t.Errorf("locations %v, %v", got.When.Location(), got.WhenUtc.Location())
	}
}

func TestUnmarshalResets(t *testing.T) {
	v := Everything{Text: "old", Tags: []string{"old"}}
	if err := dotnetxml.New().Unmarshal([]byte("<Everything><Int>1</Int></Everything>"), &v); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(Everything{Int: 1}, v); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestDateTimeForms: DateTime as the captured .NET wrote it: no zone for
// local (and unspecified) kinds, "Z" for UTC, fractional seconds only when
// not zero, to 100 ns. Zoneless times are read in dotnetxml.Unspecified.
// (datetime_test.go runs the edge cases under several zones.)
func TestDateTimeForms(t *testing.T) {
	s := dotnetxml.New()
	for _, c := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 25, 13, 14, 15, 0, time.UTC), "2026-11-25T13:14:15Z"},
		{time.Date(2026, 11, 25, 13, 14, 15, 5e8, time.UTC), "2026-11-25T13:14:15.5Z"},
		{time.Date(2026, 11, 25, 13, 14, 15, 123e6, time.Local), "2026-11-25T13:14:15.123"},
		{time.Date(2026, 1, 2, 0, 0, 0, 0, time.Local), "2026-01-02T00:00:00"},
		{time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.Local), "2026-01-02T03:04:05.1234567"},
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 5*3600)), "2026-01-02T03:04:05"},
		{time.Time{}, "0001-01-01T00:00:00"},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "0001-01-01T00:00:00"}, // the same value
		{time.Time{}.In(time.FixedZone("UTC", 0)), "0001-01-01T00:00:00Z"},
		{time.Date(2026, 3, 29, 2, 30, 0, 0, dotnetxml.Unspecified), "2026-03-29T02:30:00"},
	} {
		b, err := s.Marshal(c.in)
		if want := "<dateTime>" + c.want + "</dateTime>"; err != nil || string(b) != want {
			t.Errorf("Marshal(%v) = %s, %v; want %s", c.in, b, err, want)
		}
	}
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"2026-11-25T13:14:15Z", time.Date(2026, 11, 25, 13, 14, 15, 0, time.UTC)},
		{"2026-11-25T13:14:15.123", time.Date(2026, 11, 25, 13, 14, 15, 123e6, dotnetxml.Unspecified)},
		{"2026-01-02T00:00:00", time.Date(2026, 1, 2, 0, 0, 0, 0, dotnetxml.Unspecified)},
		{"0001-01-01T00:00:00", time.Time{}},
		{"0001-01-01T00:00:00Z", time.Time{}.In(time.FixedZone("UTC", 0))},
	} {
		var got time.Time
		if err := s.Unmarshal([]byte("<dateTime>"+c.in+"</dateTime>"), &got); err != nil || !got.Equal(c.want) || got.Location().String() != c.want.Location().String() {
			t.Errorf("Unmarshal(%s) = %v (%v), %v; want %v (%v)", c.in, got, got.Location(), err, c.want, c.want.Location())
		}
	}
}
