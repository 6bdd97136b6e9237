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
	zeroDateTime   = "0001-01-01T00:00:00"
)

// formatTime writes a time as .NET writes a DateTime: a time in UTC (its
// Location is time.UTC) as UTC kind, with "Z"; any other as local kind,
// its wall clock without a zone. Fractional seconds appear only when not
// zero, to 100 ns (finer digits are dropped). The zero time.Time is .NET's
// default DateTime, "0001-01-01T00:00:00".
func formatTime(dst []byte, v reflect.Value) ([]byte, error) {
	t := v.Interface().(time.Time)
	if t.IsZero() {
		return append(dst, zeroDateTime...), nil
	}
	if y := t.Year(); y < 1 || y > 9999 {
		return dst, fmt.Errorf("time %s is outside .NET DateTime's years 1 to 9999", t)
	}
	dst = t.AppendFormat(dst, dateLayout+fractionLayout)
	if t.Location() == time.UTC {
		dst = append(dst, 'Z')
	}
	return dst, nil
}

// parseTime reads a DateTime: with "Z" it is a time in time.UTC; with an
// offset (as .NET on Windows writes local times) the same instant in
// time.Local; without a zone the wall clock in time.Local, as .NET reads
// it. "0001-01-01T00:00:00" without a zone is the zero time.Time.
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
	case len(zone) >= 6 && (zone[len(zone)-6] == '+' || zone[len(zone)-6] == '-'):
		t, err = time.Parse(dateLayout+"Z07:00", s)
		t = t.In(time.Local)
	default:
		if t, err = time.Parse(dateLayout, s); err == nil && !t.IsZero() {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.Local)
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
