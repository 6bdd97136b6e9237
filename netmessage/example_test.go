package netmessage_test

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/netmessage-go/netmessage/base"
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
	mux, _ := netmessage.NewMux()
	netmessage.HandleRequest(mux, func(_ context.Context, _ *base.Session, r GreetRequest) (GreetResponse, error) {
		return GreetResponse{Text: "hello, " + r.Name}, nil
	})
	srv := netmessage.NewServer(mux)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()

	client := netmessage.NewClient(mux)
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
	mux, _ := netmessage.NewMux(netmessage.WithSerializer(json.New()))
	netmessage.HandleMessage(mux, func(_ context.Context, s *base.Session, n Note) {
		got <- n
	})
	srv := netmessage.NewServer(mux)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()

	client := netmessage.NewClient(mux)
	if err := client.Connect(ctx, ln.Addr().String()); err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	netmessage.Send(ctx, client, Note{Text: "one-way"})
	fmt.Println((<-got).Text)
	// Output: one-way
}

func ExampleWithTypeID() {
	// Two ends agree on "Interop.Note" whatever the Go package is called.
	mux, err := netmessage.NewMux(netmessage.WithTypeID[Note]("Interop.Note"))
	fmt.Println(mux != nil, err)
	// Output: true <nil>
}

// A server built with NewServer gets its transport settings and hooks as
// base options beside the Mux; one that cannot apply beside it is refused.
func ExampleNewServer() {
	mux, _ := netmessage.NewMux()
	srv := netmessage.NewServer(mux,
		base.WithMaxSessions(100),
		base.OnSessionOpened(func(s *base.Session) { fmt.Println("session", s.ID()) }),
	)
	fmt.Println(srv.Handler() == mux)

	// The Mux handles every packet: a hook of its own for messages cannot
	// apply beside it.
	bad := netmessage.NewServer(mux, base.OnMessage(func(context.Context, *base.Session, []byte) {}))
	err := bad.ListenAndServe("127.0.0.1:0")
	fmt.Println(errors.Is(err, base.ErrInvalidOption))
	// Output:
	// true
	// true
}

// Broadcast sends one message to every session of a server.
func ExampleBroadcast() {
	ctx := context.Background()
	mux, _ := netmessage.NewMux()
	opened := make(chan *base.Session, 1)
	srv := netmessage.NewServer(mux, base.OnSessionOpened(func(s *base.Session) { opened <- s }))
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()

	got := make(chan Note)
	cmux, _ := netmessage.NewMux()
	netmessage.HandleMessage(cmux, func(_ context.Context, _ *base.Session, n Note) { got <- n })
	client := netmessage.NewClient(cmux)
	if err := client.Connect(ctx, ln.Addr().String()); err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	<-opened
	fmt.Println(netmessage.Broadcast(ctx, srv, Note{Text: "to all"}))
	fmt.Println((<-got).Text)
	// Output:
	// <nil>
	// to all
}

// A handler calls back on the session that called it: the session finds
// its Mux by itself.
func ExampleSend() {
	ctx := context.Background()
	mux, _ := netmessage.NewMux()
	netmessage.HandleRequest(mux, func(ctx context.Context, s *base.Session, r GreetRequest) (GreetResponse, error) {
		// Sent before the response: the peer receives it first.
		err := netmessage.Send(ctx, s, Note{Text: "about to greet " + r.Name})
		return GreetResponse{Text: "hello, " + r.Name}, err
	})
	srv := netmessage.NewServer(mux)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()

	notes := make(chan Note, 1)
	cmux, _ := netmessage.NewMux()
	netmessage.HandleMessage(cmux, func(_ context.Context, _ *base.Session, n Note) { notes <- n })
	client := netmessage.NewClient(cmux)
	if err := client.Connect(ctx, ln.Addr().String()); err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	resp, err := netmessage.Request(ctx, client, GreetRequest{Name: "Gopher"})
	fmt.Println((<-notes).Text)
	fmt.Println(resp.Text, err)
	// Output:
	// about to greet Gopher
	// hello, Gopher <nil>
}

// A client's settings and hooks are base options beside the Mux; its
// handlers, registered on the Mux, serve each connection it opens.
func ExampleNewClient() {
	ctx := context.Background()
	smux, _ := netmessage.NewMux()
	netmessage.HandleRequest(smux, func(_ context.Context, _ *base.Session, r GreetRequest) (GreetResponse, error) {
		return GreetResponse{Text: "hello, " + r.Name}, nil
	})
	srv := netmessage.NewServer(smux)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()

	mux, _ := netmessage.NewMux()
	connected := make(chan *base.Session, 1)
	client := netmessage.NewClient(mux,
		base.WithReconnect(base.Backoff{}),
		base.OnConnected(func(s *base.Session) { connected <- s }),
	)
	if err := client.Connect(ctx, ln.Addr().String()); err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	fmt.Println("connected:", <-connected == client.Session())
	resp, err := netmessage.Request(ctx, client, GreetRequest{Name: "again"})
	fmt.Println(resp.Text, err)
	// Output:
	// connected: true
	// hello, again <nil>
}
