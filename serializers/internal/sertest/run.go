package sertest

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Serializer mirrors the SDK's serializer interface.
type Serializer interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
	Name() string
}

// Deref returns the value that the pointer p points to.
func Deref(p any) any { return reflect.ValueOf(p).Elem().Interface() }

// RoundTrip runs every corpus case through s, whose format is f: values
// the format can carry must come back equal under Options(f); the others
// must be rejected with the expected message.
func RoundTrip(t *testing.T, s Serializer, f Format) {
	t.Helper()
	if got := s.Name(); got != string(f) {
		t.Fatalf("Name() = %q, want %q", got, f)
	}
	for _, c := range Cases(f) {
		t.Run(c.Name, func(t *testing.T) {
			data, err := s.Marshal(c.Value)
			if c.WantErr != nil {
				WantError(t, "Marshal", err, f, c.WantErr)
				if c.TypeErr {
					WantError(t, "Unmarshal", s.Unmarshal(data, c.New()), f, c.WantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			got := c.New()
			if err := s.Unmarshal(data, got); err != nil {
				t.Fatalf("Unmarshal(%q): %v", data, err)
			}
			if diff := cmp.Diff(c.Value, Deref(got), Options(f)...); diff != "" {
				t.Errorf("round trip mismatch (-sent +received):\n%s\nencoded: %q", diff, data)
			}
		})
	}
}

// WantError fails t unless err is non-nil, starts with the format's
// prefix and contains every substring in want.
func WantError(t *testing.T, op string, err error, f Format, want []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: got no error, want one containing %q", op, want)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, string(f)+": ") {
		t.Errorf("%s: error %q lacks the %q prefix", op, msg, string(f)+": ")
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: error %q does not contain %q", op, msg, w)
		}
	}
}

// Errors checks that bad input and bad targets produce errors, never
// panics: garbage, every truncation of valid encodings, targets of the
// wrong type, and non-pointer or nil targets.
func Errors(t *testing.T, s Serializer, f Format, garbage ...[]byte) {
	t.Helper()
	t.Run("garbage", func(t *testing.T) {
		for _, g := range garbage {
			if err := s.Unmarshal(g, new(Envelope)); err == nil {
				t.Errorf("Unmarshal(%q) into *Envelope: got no error", g)
			} else if !strings.HasPrefix(err.Error(), string(f)+": ") {
				t.Errorf("Unmarshal(%q): error %q lacks the format prefix", g, err)
			}
		}
	})
	t.Run("truncated", func(t *testing.T) {
		for _, v := range []any{NewSmall(), corpus()[0].value} {
			data, err := s.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			for n := range len(data) {
				if err := s.Unmarshal(data[:n], reflect.New(reflect.TypeOf(v)).Interface()); err == nil {
					t.Errorf("Unmarshal(%q) of a %d-byte truncation: got no error", data[:n], n)
				}
			}
		}
	})
	t.Run("wrong target", func(t *testing.T) {
		data, err := s.Marshal(NewSmall())
		if err != nil {
			t.Fatal(err)
		}
		for _, target := range []any{new(int), new([]string), new(bool), new(float64)} {
			if err := s.Unmarshal(data, target); err == nil {
				t.Errorf("Unmarshal(%q) into %T: got no error, value %v", data, target, Deref(target))
			}
		}
	})
	t.Run("bad target", func(t *testing.T) {
		data, err := s.Marshal(NewSmall())
		if err != nil {
			t.Fatal(err)
		}
		for _, target := range []any{nil, Small{}, (*Small)(nil)} {
			err := s.Unmarshal(data, target)
			WantError(t, "Unmarshal", err, f, []string{"non-nil pointer"})
		}
	})
}

// Random feeds s pseudo-random inputs, mutations of valid encodings
// included; Unmarshal may fail but must not panic.
func Random(t *testing.T, s Serializer) {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	seeds := Seeds(s)
	targets := []func() any{
		func() any { return new(Envelope) }, func() any { return new(Tree) },
		func() any { return new(Times) }, func() any { return new(Slices) },
	}
	for range 5000 {
		var in []byte
		if r.IntN(2) == 0 {
			in = make([]byte, r.IntN(64))
			for i := range in {
				in[i] = byte(r.Uint32())
			}
		} else {
			in = append([]byte(nil), seeds[r.IntN(len(seeds))]...)
			for range 1 + r.IntN(4) {
				if len(in) > 0 {
					in[r.IntN(len(in))] = byte(r.Uint32())
				}
			}
		}
		for _, newTarget := range targets {
			_ = s.Unmarshal(in, newTarget()) // must not panic
		}
	}
}

// Reencode is the body of the fuzz targets: if data decodes into an
// Envelope, the result must encode and decode back to an equal value.
func Reencode(t *testing.T, s Serializer, data []byte) {
	var v Envelope
	if err := s.Unmarshal(data, &v); err != nil {
		return
	}
	again, err := s.Marshal(v)
	if err != nil {
		t.Fatalf("decoded %q to %+v, which does not encode: %v", data, v, err)
	}
	var w Envelope
	if err := s.Unmarshal(again, &w); err != nil {
		t.Fatalf("re-encoded %+v to %q, which does not decode: %v", v, again, err)
	}
	opts := append(Options(Format(s.Name())), cmpopts.EquateNaNs())
	if diff := cmp.Diff(v, w, opts...); diff != "" {
		t.Fatalf("second round trip mismatch (-first +second):\n%s", diff)
	}
}

// Seeds returns the encodings of the corpus values s can carry, for fuzz
// seed corpora.
func Seeds(s Serializer) [][]byte {
	var out [][]byte
	for _, c := range Cases(Format(s.Name())) {
		if data, err := s.Marshal(c.Value); err == nil {
			out = append(out, data)
		}
	}
	return out
}

// SameAsStdlib checks s against a standard library codec (marshal,
// unmarshal) on the cases, and on every case of Cases(f) that the format
// carries: s must write the same bytes, and decode those bytes to the same
// value.
func SameAsStdlib(t *testing.T, s Serializer, f Format, marshal func(any) ([]byte, error), unmarshal func([]byte, any) error, cases []Case) {
	t.Helper()
	for _, c := range Cases(f) {
		if c.WantErr == nil {
			cases = append(cases, c)
		}
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			want, err := marshal(c.Value)
			if err != nil {
				t.Fatalf("standard library: %v", err)
			}
			got, err := s.Marshal(c.Value)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Marshal:\n got %s\nwant %s", got, want)
			}
			std, ours := c.New(), c.New()
			if err := unmarshal(want, std); err != nil {
				t.Fatalf("standard library: %v", err)
			}
			if err := s.Unmarshal(want, ours); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !reflect.DeepEqual(ours, std) {
				t.Errorf("Unmarshal:\n got %+v\nwant %+v", ours, std)
			}
		})
	}
}
