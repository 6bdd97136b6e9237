package dotnetxml_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/netmessage-go/netmessage/serializers/dotnetxml"
)

// selfPointer is a pointer type that points to itself.
type selfPointer *selfPointer

// TestPointerCycle: Marshal and ClassName stop at a pointer that leads
// back to itself, and ClassName answers for an interface type.
func TestPointerCycle(t *testing.T) {
	var p selfPointer
	p = &p
	if _, err := dotnetxml.New().Marshal(p); err == nil {
		t.Error("Marshal: no error")
	}
	if got := dotnetxml.ClassName(reflect.TypeFor[selfPointer]()); got != "selfPointer" {
		t.Errorf("ClassName(selfPointer) = %q", got)
	}
	if got := dotnetxml.ClassName(reflect.TypeFor[dotnetxml.ClassNamer]()); got != "ClassNamer" {
		t.Errorf("ClassName(ClassNamer) = %q", got)
	}
}

// TestIntRange: a Go int is a .NET int, so a value past 32 bits is
// refused when read, as it is when written.
func TestIntRange(t *testing.T) {
	var n int
	if err := dotnetxml.New().Unmarshal([]byte("<int>1099511627776</int>"), &n); err == nil {
		t.Errorf("accepted %d", n)
	}
	if err := dotnetxml.New().Unmarshal([]byte("<int>-2147483648</int>"), &n); err != nil || n != -2147483648 {
		t.Errorf("int32 minimum: %d, %v", n, err)
	}
}

// TestErrorTextBounded: an error about a huge bad value does not quote
// all of it.
func TestErrorTextBounded(t *testing.T) {
	doc := "<Everything><Double>" + strings.Repeat("9", 1<<20) + "x</Double></Everything>"
	var v Everything
	err := dotnetxml.New().Unmarshal([]byte(doc), &v)
	if err == nil {
		t.Fatal("no error")
	}
	if n := len(err.Error()); n > 1024 {
		t.Fatalf("error text of %d bytes", n)
	}
}
