package xml_test

import (
	"testing"

	"github.com/netmessage-go/netmessage/serializers/xml"
)

// selfPointer is a pointer type that points to itself.
type selfPointer *selfPointer

// TestMarshalPointerCycle: a pointer that leads back to itself fails with
// an error instead of looping.
func TestMarshalPointerCycle(t *testing.T) {
	var p selfPointer
	p = &p
	if _, err := xml.New().Marshal(p); err == nil {
		t.Fatal("no error")
	}
}
