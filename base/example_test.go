package base_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"net"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// A server that answers requests, and a client that asks one over loopback.
func ExampleServer() {
	srv := base.NewServer(native.New,
		base.OnRequest(func(ctx context.Context, s *base.Session, payload []byte) []byte {
			return bytes.ToUpper(payload)
		}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	ctx := context.Background()
	client := base.NewClient(native.New)
	if err := client.Connect(ctx, ln.Addr().String()); err != nil {
		log.Fatal(err)
	}
	resp, err := client.Request(ctx, []byte("hello"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("response: %s\n", resp)

	// Shutdown disconnects the client gracefully.
	if err := srv.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("Serve:", <-served)
	// Output:
	// response: HELLO
	// Serve: netmessage: server closed
}

// A client that receives a welcome message, asks the server a question and
// disconnects gracefully.
func ExampleClient() {
	srv := base.NewServer(native.New,
		base.OnSessionOpened(func(s *base.Session) {
			_ = s.SendMessage(context.Background(), []byte("welcome"))
		}),
		base.OnRequest(func(ctx context.Context, s *base.Session, payload []byte) []byte {
			return fmt.Appendf(nil, "%d bytes", len(payload))
		}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() { srv.Close(); <-served }()

	messages := make(chan string, 1)
	closed := make(chan base.CloseReason, 1)
	client := base.NewClient(native.New,
		base.OnMessage(func(_ context.Context, s *base.Session, payload []byte) { messages <- string(payload) }),
		base.OnDisconnected(func(s *base.Session, reason base.CloseReason) { closed <- reason }))

	ctx := context.Background()
	if err := client.Connect(ctx, ln.Addr().String()); err != nil {
		log.Fatal(err)
	}
	fmt.Println("message:", <-messages)
	resp, err := client.Request(ctx, []byte("how long is this?"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("response:", string(resp))
	if err := client.Disconnect(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("closed:", (<-closed).String())
	// Output:
	// message: welcome
	// response: 17 bytes
	// closed: graceful shutdown
}
