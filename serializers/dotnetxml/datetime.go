package dotnetxml

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// .NET's DateTime counts 100 ns ticks from year 1 to year 9999.
const (
	dateLayout     = "2006-01-02T15:04:05"
	fractionLayout = ".9999999" // 100 ns ticks, trailing zeros dropped
)

// Unspecified is the Location of a time.Time that Unmarshal reads from a
// DateTime written without a zone (.NET's Unspecified kind, and its Local
// kind as Mono writes it): a fixed zone at offset 0 named "Unspecified",
// which holds the wall clock as written, whatever the process's time zone.
// Marshal writes such a time's wall clock back unchanged, so use it to send
// an Unspecified DateTime too. Why, and how to place the wall clock in a
// zone: docs/dotnet-interop.md ("Type mapping").
var Unspecified = time.FixedZone("Unspecified", 0)

// unspecified is the Location Unmarshal gives zoneless times, kept apart
// from the exported variable.
var unspecified = Unspecified

// formatTime writes a time as .NET writes a DateTime, in this order: the
// zero time.Time is default(DateTime), "0001-01-01T00:00:00"; a time in
// UTC (see isUTC) is UTC kind, with "Z"; any other is local or
// unspecified kind, its wall clock without a zone. Fractional seconds
// appear only when not zero, to 100 ns (finer digits are dropped).
func formatTime(dst []byte, v reflect.Value) ([]byte, error) {
	t := v.Interface().(time.Time)
	// time.Time{} and time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC) are the
	// same value: Go's zero, .NET's default(DateTime).
	utc := isUTC(t) && !(t.Location() == time.UTC && t.IsZero())
	if y := t.Year(); y < 1 || y > 9999 {
		return dst, fmt.Errorf("time %s is outside .NET DateTime's years 1 to 9999", t)
	}
	dst = t.AppendFormat(dst, dateLayout+fractionLayout)
	if utc {
		dst = append(dst, 'Z')
	}
	return dst, nil
}

// isUTC reports whether t is written as a UTC DateTime: its Location is
// time.UTC, or, other than time.Local, its zone is named "UTC" with
// offset 0 (time.FixedZone("UTC", 0), "Etc/UTC").
func isUTC(t time.Time) bool {
	loc := t.Location()
	if loc == time.UTC {
		return true
	}
	if loc == time.Local || loc == unspecified {
		return false
	}
	name, offset := t.Zone()
	return offset == 0 && name == "UTC"
}

// utcMinValue is the Location of DateTime.MinValue read with UTC kind:
// in time.UTC it would be the zero time.Time, which is written without
// the "Z".
var utcMinValue = time.FixedZone("UTC", 0)

// parseTime reads a DateTime: with "Z" a time in time.UTC (at year 1 the
// zero instant in time.FixedZone("UTC", 0), as the zero time.Time stands
// for default(DateTime)); with an offset (as .NET on Windows writes local
// times) the same instant in time.Local, held within .NET's range as .NET
// holds it; without a zone the wall clock in Unspecified, and
// "0001-01-01T00:00:00" (default(DateTime)) the zero time.Time.
func parseTime(s string, v reflect.Value) error {
	s = strings.Trim(s, xmlSpace)
	t, err := parseDateTime(s)
	if err != nil {
		return fmt.Errorf("invalid dateTime %q: %w", s, err)
	}
	v.Set(reflect.ValueOf(t))
	return nil
}

func parseDateTime(s string) (time.Time, error) {
	if len(s) < len(dateLayout) || s[4] != '-' || s[10] != 'T' {
		return time.Time{}, errors.New("want yyyy-MM-ddTHH:mm:ss")
	}
	var t time.Time
	var err error
	switch zone := s[len(dateLayout):]; {
	case strings.HasSuffix(zone, "Z"):
		t, err = time.Parse(dateLayout+"Z", s)
		if err == nil && t.IsZero() {
			t = t.In(utcMinValue)
		}
	case len(zone) >= 6 && (zone[len(zone)-6] == '+' || zone[len(zone)-6] == '-'):
		t, err = time.ParseInLocation(dateLayout+"Z07:00", s, unspecified)
		if err == nil && t.Year() >= 1 && t.Year() <= 9999 {
			t = clampLocal(t)
		}
	default:
		t, err = time.ParseInLocation(dateLayout, s, unspecified)
		if err == nil && t.IsZero() {
			t = time.Time{} // default(DateTime)
		}
	}
	if err != nil {
		return time.Time{}, err
	}
	if t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, errors.New("outside years 1 to 9999")
	}
	return t, nil
}

// clampLocal returns t in time.Local, held between DateTime.MinValue and
// MaxValue there, as .NET turns a time with an offset into a local one
// (MinValue written by .NET east of UTC, "0001-01-01T00:00:00+01:00", is
// before year 1 in UTC).
func clampLocal(t time.Time) time.Time {
	lo := time.Date(1, 1, 1, 0, 0, 0, 0, time.Local)
	hi := time.Date(9999, 12, 31, 23, 59, 59, 999_999_900, time.Local)
	switch {
	case t.Before(lo):
		return lo
	case t.After(hi):
		return hi
	}
	return t.In(time.Local)
}
