package netmessage_test

import (
	"context"
	"errors"
	"testing"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
)

// Identified names its type id through an interface type, which has no
// value to ask.
type Identified interface{ NetMessageTypeID() string }

// TestTypeIDOfPointerAndInterfaceTypes registers handlers for a pointer to
// a type with a NetMessageTypeID method and for an interface type with
// one: registration fails with ErrTypeID instead of panicking.
func TestTypeIDOfPointerAndInterfaceTypes(t *testing.T) {
	smux, err := netmessage.NewMux()
	must(t, err)
	for name, register := range map[string]func() error{
		"*Named": func() error {
			return netmessage.HandleMessage(smux, func(context.Context, *base.Session, *Named) {})
		},
		"Identified": func() error {
			return netmessage.HandleMessage(smux, func(context.Context, *base.Session, Identified) {})
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
	must(t, netmessage.HandleMessage(smux, func(context.Context, *base.Session, Named) {}))
}

type Receipt struct{ N int }

func (Receipt) NetMessageTypeID() string { return "test.Receipt" }

// Impostor claims Receipt's id, on the client only.
type Impostor struct{ V int }

func (Impostor) NetMessageTypeID() string { return "test.Receipt" }

type Transfer struct {
	netmessage.Returns[Receipt]
	Amount int
}

// TestRequestChecksResponseTypeBeforeSending: a response type without a
// usable id on the caller fails the request with ErrTypeID before
// anything is sent, so the peer's handler never runs for a call the
// caller is told failed.
func TestRequestChecksResponseTypeBeforeSending(t *testing.T) {
	ran := make(chan int, 1)
	e := start(t, func(srv, c *netmessage.Mux) {
		must(t, netmessage.HandleRequest(srv, func(_ context.Context, _ *base.Session, r Transfer) (Receipt, error) {
			ran <- r.Amount
			return Receipt{N: r.Amount}, nil
		}))
		// The client knows Impostor by the id Receipt needs.
		must(t, netmessage.HandleMessage(c, func(context.Context, *base.Session, Impostor) {}))
	})
	if _, err := netmessage.Request(ctx(t), e.client, Transfer{Amount: 100}); !errors.Is(err, netmessage.ErrTypeID) {
		t.Fatalf("Request: %v, want ErrTypeID", err)
	}
	// A message after it travels the same connection: when it arrives,
	// a request sent before it would have reached the handler.
	got := make(chan int, 1)
	must(t, netmessage.HandleMessage(e.smux, func(_ context.Context, _ *base.Session, m ChatMessage) { got <- m.Seq }))
	must(t, netmessage.Send(ctx(t), e.client, ChatMessage{Seq: 1}))
	recv(t, got, "the message after the request")
	select {
	case n := <-ran:
		t.Fatalf("the handler ran (amount %d) for a request that failed locally", n)
	default:
	}
}

// TestWithTypeIDOfPointerType: WithTypeID for *M gives M the id, as
// WithTypeIDOf does for a pointer value; a handler for *M is still
// refused, and WithTypeID for an interface type fails the constructor.
func TestWithTypeIDOfPointerType(t *testing.T) {
	smux, err := netmessage.NewMux(netmessage.WithTypeID[*ChatMessage]("Interop.ChatMessage"))
	must(t, err)
	if err := netmessage.HandleMessage(smux, func(context.Context, *base.Session, *ChatMessage) {}); !errors.Is(err, netmessage.ErrTypeID) {
		t.Errorf("HandleMessage[*ChatMessage]: %v, want ErrTypeID", err)
	}
	if _, err := netmessage.NewMux(netmessage.WithTypeID[Identified]("x")); !errors.Is(err, netmessage.ErrTypeID) {
		t.Errorf("WithTypeID for an interface type: %v, want ErrTypeID", err)
	}

	e := start(t, nil, netmessage.WithTypeID[*ChatMessage]("Interop.ChatMessage"))
	must(t, netmessage.Send(ctx(t), e.client, &ChatMessage{Text: "x"}))
	if got := recv(t, e.unh, "unhandled event"); got != "message Interop.ChatMessage" {
		t.Errorf("&ChatMessage{} sent as %q, want the id Interop.ChatMessage", got)
	}
}

// PointerIdentified declares its id on the pointer receiver, where the
// value type, which carries the id, does not have it.
type PointerIdentified struct{ N int }

func (*PointerIdentified) NetMessageTypeID() string { return "test.PointerIdentified" }

// TestTypeIDMethodOnPointerReceiver: a NetMessageTypeID method declared
// on *T is not in T's method set; registering T fails with ErrTypeID
// instead of silently using the package path and name, an id the peer
// expecting "test.PointerIdentified" would not know.
func TestTypeIDMethodOnPointerReceiver(t *testing.T) {
	mux, err := netmessage.NewMux()
	must(t, err)
	err = netmessage.HandleMessage(mux, func(context.Context, *base.Session, PointerIdentified) {})
	if !errors.Is(err, netmessage.ErrTypeID) {
		t.Fatalf("HandleMessage: %v, want ErrTypeID", err)
	}
	// WithTypeID still names such a type.
	mux, err = netmessage.NewMux(netmessage.WithTypeID[PointerIdentified]("test.PointerIdentified"))
	must(t, err)
	must(t, netmessage.HandleMessage(mux, func(context.Context, *base.Session, PointerIdentified) {}))
}
