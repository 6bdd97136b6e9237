package interop

import (
	"context"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/netmessage/dotnet"
	"github.com/netmessage-go/netmessage/serializers/dotnetxml"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// Position is the nested class Interop.Fleet+Position.
type Position struct{ Lat float64 }

// Envelope is the generic class Interop.Envelope<T>; XmlSerializer names
// its root element EnvelopeOf and the argument's class name.
type Envelope[T any] struct {
	Sender string
	Item   T
}

func (Envelope[T]) DotNetName() string {
	return "EnvelopeOf" + dotnetxml.ClassName(reflect.TypeFor[T]())
}

// envelopeOfChat is the FullName of Interop.Envelope<Interop.ChatMessage>
// with both classes in an assembly Interop, version 1.0.0.0.
const envelopeOfChat = "Interop.Envelope`1[[Interop.ChatMessage, Interop, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null]]"

// names are the type ids of the nested and the generic class.
func names() netmessage.Option {
	return netmessage.Combine(
		dotnet.Nested("Interop", "Fleet", Position{}),
		netmessage.WithTypeIDOf(Envelope[ChatMessage]{}, envelopeOfChat),
	)
}

// The packets .NET sends for a nested and a generic class.
const (
	positionPacket = "Interop.Fleet+Position::<Position><Lat>50.7</Lat></Position>\x04"
	envelopePacket = "Interop.Envelope`1[[Interop.ChatMessage, Interop, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null]]::" +
		"<EnvelopeOfChatMessage><Sender>dotnet</Sender><Item><Text>hi</Text><Seq>3</Seq></Item></EnvelopeOfChatMessage>\x04"
)

// TestGoldenNestedAndGenericIDs: a Go client sends a nested and a generic
// class with the type ids .NET uses, and a Go server takes them from a raw
// .NET peer.
func TestGoldenNestedAndGenericIDs(t *testing.T) {
	c, raw, ev := connectToRaw(t, nil, names())
	testutil.Must(t, netmessage.Send(testutil.Ctx(t), c, Position{Lat: 50.7}))
	raw.expect(positionPacket)
	testutil.Must(t, netmessage.Send(testutil.Ctx(t), c, Envelope[ChatMessage]{Sender: "dotnet", Item: ChatMessage{Text: "hi", Seq: 3}}))
	raw.expect(envelopePacket)
	ev.noErrors(t)

	positions := make(chan Position, 1)
	envelopes := make(chan Envelope[ChatMessage], 1)
	s := startServer(t, func(srv *netmessage.Mux) {
		netmessage.HandleMessage(srv, func(_ context.Context, _ *base.Session, p Position) { positions <- p })
		netmessage.HandleMessage(srv, func(_ context.Context, _ *base.Session, e Envelope[ChatMessage]) { envelopes <- e })
	}, names())
	peer := dialRaw(t, s.addr)
	peer.send(positionPacket, envelopePacket)
	if p := testutil.Recv(t, positions, "the position"); p != (Position{Lat: 50.7}) {
		t.Errorf("position %+v", p)
	}
	want := Envelope[ChatMessage]{Sender: "dotnet", Item: ChatMessage{Text: "hi", Seq: 3}}
	if d := cmp.Diff(want, testutil.Recv(t, envelopes, "the envelope")); d != "" {
		t.Errorf("envelope (-want +got):\n%s", d)
	}
	s.ev.noErrors(t)
}
