package dotnet_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/netmessage/dotnet"
	"github.com/netmessage-go/netmessage/serializers/dotnetxml"
)

// The worked example of docs/dotnet-interop.md, from here to forecast's
// end, word for word (a test in tests/dotnet checks that they agree).

type WeatherResponse struct {
	Forecast string
}

type WeatherRequest struct {
	netmessage.Returns[WeatherResponse] // IRequest<WeatherResponse>

	City string
	Date time.Time
}

type ChatMessage struct {
	Text string
	Seq  int32 // C# int
}

// forecast asks the .NET server at addr for the weather in Bonn.
func forecast(ctx context.Context, addr string) (string, error) {
	mux, err := netmessage.NewMux(
		dotnet.Compat(dotnet.Namespace("Interop", WeatherRequest{}, WeatherResponse{}, ChatMessage{})),
	)
	if err != nil {
		return "", err
	}
	// Messages the .NET server sends us.
	netmessage.HandleMessage(mux, func(_ context.Context, _ *base.Session, m ChatMessage) {
		log.Printf("chat %d: %s", m.Seq, m.Text)
	})
	client := netmessage.NewClient(mux, base.OnError(func(_ *base.Session, err error) { log.Print(err) }))
	if err := client.Connect(ctx, addr); err != nil {
		return "", err
	}
	defer client.Disconnect(ctx)

	// Date is a local time: sent as the wall clock, with no zone.
	date := time.Date(2026, 1, 2, 0, 0, 0, 0, time.Local)
	resp, err := netmessage.Request(ctx, client, WeatherRequest{City: "Bonn", Date: date})
	if err != nil {
		return "", err // base.ErrRequestTimeout if the server has no handler: see Limits
	}
	return resp.Forecast, nil
}

// End of the worked example.

// A Go client for a .NET NetMessage server that handles
// Interop.WeatherRequest. Here a stand-in plays the .NET server: it
// expects the bytes the captured .NET client sent and answers with the
// bytes the captured .NET server sent.
func Example_client() {
	addr := dotNetWeatherServer()
	fmt.Println(forecast(context.Background(), addr))
	// Output: Sunny in Bonn <nil>
}

// dotNetWeatherServer serves one connection on a loopback port as the
// captured .NET server did and returns the address.
func dotNetWeatherServer() string {
	const (
		request  = ">Interop.WeatherRequest:0:<WeatherRequest><City>Bonn</City><Date>2026-01-02T00:00:00</Date></WeatherRequest>\x04"
		response = "<Interop.WeatherResponse:0:<WeatherResponse><Forecast>Sunny in Bonn</Forecast></WeatherResponse>\x04"
	)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() {
		conn, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		defer conn.Close()
		var pending []byte
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			pending = append(pending, buf[:n]...)
			for {
				i := bytes.IndexByte(pending, dotnet.Terminator)
				if i < 0 {
					break
				}
				packet := string(pending[:i+1])
				pending = pending[i+1:]
				switch packet {
				case "\x04": // a heartbeat
				case request:
					conn.Write([]byte(response))
				default:
					conn.Write([]byte("<Interop.WeatherResponse:0:<WeatherResponse><Forecast>unexpected request</Forecast></WeatherResponse>\x04"))
				}
			}
			if err != nil { // the client's half-close: close in turn
				return
			}
		}
	}()
	return ln.Addr().String()
}

// The doc's class-rename example.

type Forecast struct{ Forecast string }

func (Forecast) DotNetName() string { return "WeatherResponse" } // Interop.WeatherResponse, <WeatherResponse>

// A DotNetName method renames the .NET class for both the type id and
// the XML root element.
func ExampleNamespace() {
	fmt.Println(dotnet.TypeID("Interop", Forecast{}))
	xml, err := dotnetxml.New().Marshal(Forecast{Forecast: "Sunny"})
	fmt.Println(string(xml), err)
	// Output:
	// Interop.WeatherResponse
	// <WeatherResponse><Forecast>Sunny</Forecast></WeatherResponse> <nil>
}

// One option makes a Mux, and the clients and servers built on it, speak
// to .NET.
func ExampleCompat() {
	opt := dotnet.Compat(dotnet.Namespace("Interop", WeatherRequest{}, WeatherResponse{}, ChatMessage{}))

	mux, err := netmessage.NewMux(opt)
	if err != nil {
		panic(err)
	}
	client := netmessage.NewClient(mux) // or netmessage.NewServer(mux)
	defer client.Close()
	fmt.Println(dotnet.TypeID("Interop", WeatherRequest{}))
	// Output: Interop.WeatherRequest
}
