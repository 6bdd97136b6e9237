package check_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"go.uber.org/goleak"

	"github.com/netmessage-go/netmessage/serializers/internal/check"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newPolicy() *check.Policy {
	return &check.Policy{
		Tag: "t",
		Kind: func(t reflect.Type) string {
			if t.Kind() == reflect.Map {
				return "no maps"
			}
			return ""
		},
		Value: func(v reflect.Value) string {
			if v.Kind() == reflect.String && strings.Contains(v.String(), "bad") {
				return "bad string"
			}
			return ""
		},
	}
}

type a struct{ B *b }

type b struct {
	A *a
	M map[string]int
}

// TestMutualRecursionIsNotCachedAsSupported checks that a type first
// reached while another is still being scanned gets its own full verdict.
func TestMutualRecursionIsNotCachedAsSupported(t *testing.T) {
	p := newPolicy()
	for _, typ := range []reflect.Type{reflect.TypeFor[a](), reflect.TypeFor[b](), reflect.TypeFor[*a]()} {
		if err := p.Type(typ); err == nil || !strings.Contains(err.Error(), "no maps") {
			t.Errorf("Type(%v) = %v, want an error about maps", typ, err)
		}
	}
}

type tagged struct {
	Skip map[string]int `t:"-"`
	priv map[string]int
	Keep string
}

func TestSkippedFields(t *testing.T) {
	p := newPolicy()
	if err := p.Check(reflect.ValueOf(tagged{priv: map[string]int{}})); err != nil {
		t.Errorf("Check: %v", err)
	}
	err := p.Check(reflect.ValueOf(tagged{Keep: "bad"}))
	if err == nil || err.Error() != "field Keep (string): bad string" {
		t.Errorf("Check = %v", err)
	}
}

type list struct {
	Name string
	Next *list
	Any  any
}

func TestValuePaths(t *testing.T) {
	p := newPolicy()
	v := []list{{Name: "ok"}, {Next: &list{Any: []any{"fine", "bad"}}}}
	err := p.Check(reflect.ValueOf(v))
	if want := "field [1].Next.Any[1] (string): bad string"; err == nil || err.Error() != want {
		t.Errorf("Check = %v, want %q", err, want)
	}
}

func TestCycles(t *testing.T) {
	p := &check.Policy{Kind: func(reflect.Type) string { return "" }}
	m := map[string]any{}
	m["self"] = m
	if err := p.Check(reflect.ValueOf(m)); err == nil || !strings.Contains(err.Error(), "reference cycle") {
		t.Errorf("map cycle: Check = %v", err)
	}
	l := &list{Name: "a"}
	l.Next = l
	if err := p.Check(reflect.ValueOf(l)); err == nil || !strings.Contains(err.Error(), "reference cycle") {
		t.Errorf("pointer cycle: Check = %v", err)
	}
	// A long chain without a cycle, and a value shared twice, are fine.
	var head *list
	for range 1000 {
		head = &list{Next: head}
	}
	if err := p.Check(reflect.ValueOf([]*list{head, head})); err != nil {
		t.Errorf("chain: Check = %v", err)
	}
}

func TestLongMessagesAreCut(t *testing.T) {
	long := errors.New("x" + strings.Repeat("é", 1000) + ": the reason")
	msg := check.Wrap("json", "unmarshal", reflect.TypeFor[*int](), long).Error()
	want := "json: unmarshal *int: x" + strings.Repeat("é", 127) + " ... (1502 bytes elided) ... " +
		strings.Repeat("é", 122) + ": the reason"
	if msg != want {
		t.Errorf("Error() = %q, want %q", msg, want)
	}
	if !utf8.ValidString(msg) {
		t.Errorf("Error() is not valid UTF-8")
	}
	short := check.Wrap("json", "unmarshal", nil, errors.New("short")).Error()
	if short != "json: unmarshal <nil>: short" {
		t.Errorf("Error() = %q", short)
	}
}
