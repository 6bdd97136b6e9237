package netmessage_test

import (
	"context"
	"fmt"
	"net"

	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/serializers/json"
)

type GreetResponse struct{ Text string }

type GreetRequest struct {
	netmessage.Returns[GreetResponse]
	Name string
}

type Note struct{ Text string }

func Example() {
	ctx := context.Background()
	srv, _ := netmessage.NewServer()
	netmessage.HandleRequest(srv, func(_ context.Context, _ *netmessage.Session, r GreetRequest) (GreetResponse, error) {
		return GreetResponse{Text: "hello, " + r.Name}, nil
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()

	client, _ := netmessage.NewClient()
	if err := client.Connect(ctx, ln.Addr().String()); err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	resp, err := netmessage.Request(ctx, client, GreetRequest{Name: "Gopher"})
	fmt.Println(resp.Text, err)
	fmt.Println(client.Disconnect(ctx))
	// Output:
	// hello, Gopher <nil>
	// <nil>
}

func ExampleHandleMessage() {
	ctx := context.Background()
	got := make(chan Note)
	srv, _ := netmessage.NewServer(netmessage.WithSerializer(json.New()))
	netmessage.HandleMessage(srv, func(_ context.Context, s *netmessage.Session, n Note) {
		got <- n
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()

	client, _ := netmessage.NewClient(netmessage.WithSerializer(json.New()))
	if err := client.Connect(ctx, ln.Addr().String()); err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	client.Send(ctx, Note{Text: "one-way"})
	fmt.Println((<-got).Text)
	// Output: one-way
}

func ExampleWithTypeID() {
	// Two ends agree on "Interop.Note" whatever the Go package is called.
	srv, err := netmessage.NewServer(netmessage.WithTypeID[Note]("Interop.Note"))
	fmt.Println(srv != nil, err)
	// Output: true <nil>
}
