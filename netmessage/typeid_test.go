package netmessage_test

import (
	"context"
	"errors"
	"testing"

	"github.com/netmessage-go/netmessage/netmessage"
)

// Identified names its type id through an interface type, which has no
// value to ask.
type Identified interface{ NetMessageTypeID() string }

// TestTypeIDOfPointerAndInterfaceTypes registers handlers for a pointer to
// a type with a NetMessageTypeID method and for an interface type with
// one: registration fails with ErrTypeID instead of panicking.
func TestTypeIDOfPointerAndInterfaceTypes(t *testing.T) {
	srv, err := netmessage.NewServer()
	must(t, err)
	for name, register := range map[string]func() error{
		"*Named": func() error {
			return netmessage.HandleMessage(srv, func(context.Context, *netmessage.Session, *Named) {})
		},
		"Identified": func() error {
			return netmessage.HandleMessage(srv, func(context.Context, *netmessage.Session, Identified) {})
		},
	} {
		func() {
			defer func() {
				if v := recover(); v != nil {
					t.Errorf("%s: registration panicked: %v", name, v)
				}
			}()
			if err := register(); !errors.Is(err, netmessage.ErrTypeID) {
				t.Errorf("%s: %v, want ErrTypeID", name, err)
			}
		}()
	}
	// The value type still has its id.
	must(t, netmessage.HandleMessage(srv, func(context.Context, *netmessage.Session, Named) {}))
}
