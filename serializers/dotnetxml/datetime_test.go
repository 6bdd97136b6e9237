package dotnetxml_test

import (
	"testing"
	"time"
	_ "time/tzdata" // the zones below, on machines without a zone database

	"github.com/netmessage-go/netmessage/serializers/dotnetxml"
)

// zones are the process time zones the DateTime cases run under: UTC
// (Etc/UTC: LoadLocation("UTC") returns time.UTC itself, which a process
// started with TZ=UTC does not have as time.Local), one with daylight
// saving time in the north and two in the south (Sao Paulo changed its
// clocks at midnight until 2019).
var zones = []string{"Etc/UTC", "Europe/Berlin", "Australia/Sydney", "America/Sao_Paulo"}

// inZone runs f with time.Local set to the named zone. It must not run in
// parallel with anything that reads time.Local.
func inZone(t *testing.T, name string, f func(t *testing.T)) {
	t.Run(name, func(t *testing.T) {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		saved := time.Local
		time.Local = loc
		defer func() { time.Local = saved }()
		f(t)
	})
}

// Stamp holds one DateTime property, as a .NET class would.
type Stamp struct{ When time.Time }

// dateTimeBytes are DateTime texts .NET writes that must come back byte
// for byte under every zone: wall clocks that do not exist or exist twice
// in one of the zones, MinValue and MaxValue of each kind (Mono writes the
// local kind without a zone, as the unspecified kind).
var dateTimeBytes = []struct{ name, text string }{
	{"Berlin spring gap", "2026-03-29T02:30:00"},
	{"Berlin autumn overlap", "2026-10-25T02:30:00"},
	{"Berlin overlap, fraction", "2026-10-25T02:59:59.9999999"},
	{"Sydney spring gap", "2026-10-04T02:30:00"},
	{"Sydney autumn overlap", "2026-04-05T02:30:00"},
	{"Sao Paulo gap at midnight", "2018-11-04T00:30:00"},
	{"Sao Paulo overlap", "2019-02-16T23:30:00"},
	{"MinValue, unspecified or local", "0001-01-01T00:00:00"},
	{"MaxValue, unspecified or local", "9999-12-31T23:59:59.9999999"},
	{"MinValue, UTC", "0001-01-01T00:00:00Z"},
	{"MaxValue, UTC", "9999-12-31T23:59:59.9999999Z"},
	{"UTC in the Berlin gap", "2026-03-29T02:30:00Z"},
}

// TestDateTimeZones: what .NET sends comes back byte for byte, whatever
// the process's zone, read into a time.Time alone or as a property.
func TestDateTimeZones(t *testing.T) {
	s := dotnetxml.New()
	for _, zone := range zones {
		inZone(t, zone, func(t *testing.T) {
			for _, c := range dateTimeBytes {
				for _, doc := range []string{"<dateTime>" + c.text + "</dateTime>", "<Stamp><When>" + c.text + "</When></Stamp>"} {
					var v any = new(time.Time)
					if doc[1] == 'S' {
						v = new(Stamp)
					}
					if err := s.Unmarshal([]byte(doc), v); err != nil {
						t.Fatalf("%s: Unmarshal(%s): %v", c.name, doc, err)
					}
					b, err := s.Marshal(v)
					if err != nil || string(b) != doc {
						t.Errorf("%s: %s came back as %s, %v", c.name, doc, b, err)
					}
				}
			}
		})
	}
}

// TestDateTimeKinds: the Go value each kind reads into, and how Go's
// local times go out, under every zone.
func TestDateTimeKinds(t *testing.T) {
	s := dotnetxml.New()
	utcZone := time.FixedZone("UTC", 0)
	for _, zone := range zones {
		inZone(t, zone, func(t *testing.T) {
			for _, c := range []struct {
				text string
				want time.Time
			}{
				{"2026-03-29T02:30:00", time.Date(2026, 3, 29, 2, 30, 0, 0, dotnetxml.Unspecified)},
				{"2026-10-25T02:30:00.5", time.Date(2026, 10, 25, 2, 30, 0, 5e8, dotnetxml.Unspecified)},
				{"0001-01-01T00:00:00", time.Time{}},
				{"9999-12-31T23:59:59.9999999", time.Date(9999, 12, 31, 23, 59, 59, 999_999_900, dotnetxml.Unspecified)},
				{"0001-01-01T00:00:00Z", time.Time{}.In(utcZone)},
				{"9999-12-31T23:59:59.9999999Z", time.Date(9999, 12, 31, 23, 59, 59, 999_999_900, time.UTC)},
				// The local kind as .NET on Windows writes it: the instant in
				// time.Local, held within MinValue and MaxValue there.
				{"2026-03-29T02:30:00+02:00", time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC).In(time.Local)},
				{"0001-01-01T00:00:00+14:00", time.Date(1, 1, 1, 0, 0, 0, 0, time.Local)},
				{"9999-12-31T23:59:59.9999999-12:00", time.Date(9999, 12, 31, 23, 59, 59, 999_999_900, time.Local)},
			} {
				var got time.Time
				if err := s.Unmarshal([]byte("<dateTime>"+c.text+"</dateTime>"), &got); err != nil {
					t.Fatalf("Unmarshal(%s): %v", c.text, err)
				}
				if !sameTime(got, c.want) {
					t.Errorf("Unmarshal(%s) = %v (%v), want %v (%v)", c.text, got, got.Location(), c.want, c.want.Location())
				}
			}
			later := time.Date(2026, 10, 25, 2, 30, 0, 0, time.Local).Add(time.Hour)
			for _, c := range []struct {
				in   time.Time
				want string
			}{
				{time.Date(1, 1, 1, 0, 0, 0, 0, time.Local), "0001-01-01T00:00:00"},
				{time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.Local), "9999-12-31T23:59:59.9999999"},
				{time.Date(2026, 10, 25, 2, 30, 0, 0, time.Local), "2026-10-25T02:30:00"},
				// An hour later: the second 02:30 in Berlin, its wall clock anywhere.
				{later, later.Format("2006-01-02T15:04:05")},
				{time.Date(1, 1, 1, 0, 0, 0, 0, dotnetxml.Unspecified), "0001-01-01T00:00:00"},
				{time.Time{}, "0001-01-01T00:00:00"},
				{time.Time{}.In(utcZone), "0001-01-01T00:00:00Z"},
				{time.Date(9999, 12, 31, 23, 59, 59, 999_999_900, time.UTC), "9999-12-31T23:59:59.9999999Z"},
			} {
				b, err := s.Marshal(c.in)
				if want := "<dateTime>" + c.want + "</dateTime>"; err != nil || string(b) != want {
					t.Errorf("Marshal(%v) = %s, %v; want %s", c.in, b, err, want)
				}
			}
		})
	}
}

// sameTime reports whether a and b are the same instant and wall clock in
// zones of the same name.
func sameTime(a, b time.Time) bool {
	an, ao := a.Zone()
	bn, bo := b.Zone()
	return a.Equal(b) && an == bn && ao == bo && a.Location().String() == b.Location().String()
}
