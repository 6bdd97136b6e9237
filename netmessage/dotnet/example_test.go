package dotnet_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/netmessage/dotnet"
)

// A Go client and a Go server that both speak the .NET protocol: either
// could be a .NET NetMessage endpoint instead. The packet types mirror the
// C# classes Interop.WeatherRequest and Interop.WeatherResponse:
//
//	type WeatherResponse struct{ Forecast string }
//	type WeatherRequest struct {
//		netmessage.Returns[WeatherResponse]
//		City string
//		Date time.Time
//	}
func Example() {
	ctx := context.Background()
	interop := dotnet.Compat(dotnet.Namespace("Interop", WeatherRequest{}, WeatherResponse{}))

	mux, err := netmessage.NewMux(interop)
	if err != nil {
		panic(err)
	}
	netmessage.HandleRequest(mux, func(_ context.Context, _ *base.Session, r WeatherRequest) (WeatherResponse, error) {
		return WeatherResponse{Forecast: "Sunny in " + r.City}, nil
	})
	srv := netmessage.NewServer(mux)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()

	cmux, err := netmessage.NewMux(interop)
	if err != nil {
		panic(err)
	}
	client := netmessage.NewClient(cmux)
	if err := client.Connect(ctx, ln.Addr().String()); err != nil {
		panic(err)
	}
	defer client.Close()
	resp, err := netmessage.Request(ctx, client, WeatherRequest{City: "Bonn"})
	fmt.Println(resp.Forecast, err)
	fmt.Println(client.Disconnect(ctx))
	// Output:
	// Sunny in Bonn <nil>
	// <nil>
}

func ExampleTypeID() {
	fmt.Println(dotnet.TypeID("Interop", WeatherRequest{}))
	fmt.Println(dotnet.TypeID("", &ChatMessage{}))
	// Output:
	// Interop.WeatherRequest
	// ChatMessage
}

func ExampleNew() {
	// A request payload in the typed layer's layout: uvarint(len(typeID)),
	// typeID, body. Append writes it as the .NET wire text.
	typeID := "Interop.WeatherRequest"
	payload := binary.AppendUvarint(nil, uint64(len(typeID)))
	payload = append(payload, typeID...)
	payload = append(payload, "<WeatherRequest><City>Bonn</City></WeatherRequest>"...)

	wire, err := dotnet.New().Append(nil, base.Packet{Kind: base.KindRequest, ID: 0, Payload: payload})
	fmt.Printf("%q %v\n", wire, err)
	// Output: ">Interop.WeatherRequest:0:<WeatherRequest><City>Bonn</City></WeatherRequest>\x04" <nil>
}
