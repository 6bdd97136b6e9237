package netmessage_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
)

func ExampleErrorf() {
	ctx := context.Background()
	mux, _ := netmessage.NewMux()
	netmessage.HandleRequest(mux, func(_ context.Context, _ *base.Session, r GreetRequest) (GreetResponse, error) {
		if r.Name == "" {
			return GreetResponse{}, netmessage.Errorf(netmessage.CodeInvalidArgument, "no name given")
		}
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
	_, err := netmessage.Request(ctx, client, GreetRequest{})
	var re *netmessage.RemoteError
	if errors.As(err, &re) {
		fmt.Println(re.Code, "|", re.Message)
	}
	// Output: invalid argument | no name given
}

func ExampleWithLogger() {
	// Drop what changes from run to run: times, durations, addresses.
	stable := func(groups []string, a slog.Attr) slog.Attr {
		switch a.Key {
		case slog.TimeKey, "duration", "addr":
			return slog.Attr{}
		}
		return a
	}
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: stable}))

	ctx := context.Background()
	closed := make(chan struct{})
	mux, _ := netmessage.NewMux(
		netmessage.WithLogger(logger),
		netmessage.WithTypeID[Note]("example.Note"),
	)
	netmessage.HandleMessage(mux, func(context.Context, *base.Session, Note) {})
	srv := netmessage.NewServer(mux,
		base.OnSessionClosed(func(*base.Session, base.CloseReason) { close(closed) }))
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()

	cmux, _ := netmessage.NewMux(netmessage.WithTypeID[Note]("example.Note"))
	client := netmessage.NewClient(cmux)
	if err := client.Connect(ctx, ln.Addr().String()); err != nil {
		fmt.Println(err)
		return
	}
	netmessage.Send(ctx, client, Note{Text: "hi"})
	client.Disconnect(ctx)
	<-closed
	// Output:
	// level=INFO msg="netmessage session opened" peer.session=1
	// level=DEBUG msg="netmessage call" dir=in kind=message type=example.Note peer.session=1 outcome=ok
	// level=INFO msg="netmessage session closed" peer.session=1 reason="graceful shutdown"
}

// An inbound interceptor on a server admits only calls that carry a token,
// and an outbound interceptor on a client adds it to each call.
func ExampleWithInbound() {
	ctx := context.Background()
	auth := func(ctx context.Context, call netmessage.Call, v any, next netmessage.Invoker) (any, error) {
		if base.IncomingMetadata(ctx)["authorization"] != "secret" {
			return nil, netmessage.Errorf(netmessage.CodeUnauthenticated, "%s needs a token", call.Kind)
		}
		return next(ctx, v)
	}
	mux, _ := netmessage.NewMux(netmessage.WithInbound(auth))
	netmessage.HandleRequest(mux, func(_ context.Context, _ *base.Session, r GreetRequest) (GreetResponse, error) {
		return GreetResponse{Text: "hello, " + r.Name}, nil
	})
	srv := netmessage.NewServer(mux)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()

	cmux, _ := netmessage.NewMux()
	client := netmessage.NewClient(cmux)
	if err := client.Connect(ctx, ln.Addr().String()); err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	_, err := netmessage.Request(ctx, client, GreetRequest{Name: "Gopher"})
	fmt.Println(err)
	resp, err := netmessage.Request(base.AppendMetadata(ctx, "authorization", "secret"), client, GreetRequest{Name: "Gopher"})
	fmt.Println(resp.Text, err)
	// Output:
	// netmessage: remote unauthenticated: request needs a token
	// hello, Gopher <nil>
}

// An outbound interceptor adds metadata to every call and times it.
func ExampleWithOutbound() {
	ctx := context.Background()
	mux, _ := netmessage.NewMux()
	netmessage.HandleRequest(mux, func(ctx context.Context, _ *base.Session, r GreetRequest) (GreetResponse, error) {
		return GreetResponse{Text: "hello from tenant " + base.IncomingMetadata(ctx)["tenant"]}, nil
	})
	srv := netmessage.NewServer(mux)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Close()

	var took time.Duration
	tenant := func(ctx context.Context, call netmessage.Call, v any, next netmessage.Invoker) (any, error) {
		return next(base.AppendMetadata(ctx, "tenant", "blue"), v)
	}
	timing := func(ctx context.Context, call netmessage.Call, v any, next netmessage.Invoker) (any, error) {
		start := time.Now()
		resp, err := next(ctx, v)
		took = time.Since(start)
		return resp, err
	}
	cmux, _ := netmessage.NewMux(netmessage.WithOutbound(tenant, timing))
	client := netmessage.NewClient(cmux)
	if err := client.Connect(ctx, ln.Addr().String()); err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	resp, err := netmessage.Request(ctx, client, GreetRequest{})
	fmt.Println(resp.Text, err, took > 0)
	// Output: hello from tenant blue <nil> true
}
