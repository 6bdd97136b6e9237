package dotnet_test

import (
	"fmt"
	"reflect"

	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/netmessage/dotnet"
	"github.com/netmessage-go/netmessage/serializers/dotnetxml"
)

// Position mirrors a class nested in another:
//
//	namespace Interop { public class Fleet { public class Position { public double Lat { get; set; } } } }
type Position struct{ Lat float64 }

// Nested gives Position the FullName .NET gives the nested class; the XML
// root element is the class name alone.
func ExampleNested() {
	opt := dotnet.Compat(dotnet.Nested("Interop", "Fleet", Position{}))
	if _, err := netmessage.NewMux(opt); err != nil {
		panic(err)
	}
	body, _ := dotnetxml.New().Marshal(Position{Lat: 50.7})
	fmt.Printf("%s::%s\n", dotnet.NestedTypeID("Interop", "Fleet", Position{}), body)
	// Output: Interop.Fleet+Position::<Position><Lat>50.7</Lat></Position>
}

func ExampleNestedTypeID() {
	fmt.Println(dotnet.NestedTypeID("Interop", "Fleet", Position{}))
	fmt.Println(dotnet.NestedTypeID("Interop", "Fleet+Ship", &Position{}))
	// Output:
	// Interop.Fleet+Position
	// Interop.Fleet+Ship+Position
}

// Envelope mirrors the generic class Interop.Envelope<T>. XmlSerializer
// names the root element of Envelope<ChatMessage> "EnvelopeOfChatMessage":
// the class name, "Of", the .NET names of the type arguments.
type Envelope[T any] struct {
	Sender string
	Item   T
}

func (Envelope[T]) DotNetName() string {
	return "EnvelopeOf" + dotnetxml.ClassName(reflect.TypeFor[T]())
}

// The FullName of a generic class names each type argument with its
// assembly (name, version, culture, public key token), which only the .NET
// side knows: it cannot be derived from the Go type, so it is given by
// hand, as .NET's typeof(Envelope<ChatMessage>).FullName prints it.
func Example_genericTypeID() {
	const envelopeOfChat = "Interop.Envelope`1[[Interop.ChatMessage, Interop, Version=1.0.0.0, Culture=neutral, PublicKeyToken=null]]"
	opt := dotnet.Compat(
		dotnet.Namespace("Interop", ChatMessage{}),
		netmessage.WithTypeIDOf(Envelope[ChatMessage]{}, envelopeOfChat),
	)
	if _, err := netmessage.NewMux(opt); err != nil {
		panic(err)
	}
	body, _ := dotnetxml.New().Marshal(Envelope[ChatMessage]{Sender: "go", Item: ChatMessage{Text: "hi", Seq: 1}})
	fmt.Println(string(body))
	// Output: <EnvelopeOfChatMessage><Sender>go</Sender><Item><Text>hi</Text><Seq>1</Seq></Item></EnvelopeOfChatMessage>
}
