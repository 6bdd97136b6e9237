package base_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// serveExample serves srv on a loopback port and returns a client
// connected to it, and a function that shuts both down.
func serveExample(srv *base.Server, opts ...base.ClientOption) (*base.Client, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	client := base.NewClient(native.New, opts...)
	if err := client.Connect(context.Background(), ln.Addr().String()); err != nil {
		log.Fatal(err)
	}
	return client, func() {
		if err := srv.Shutdown(context.Background()); err != nil {
			log.Fatal(err)
		}
		<-served
	}
}

// A request carries metadata beside its payload: the caller adds it to
// the context, the handler reads it from its own.
func ExampleAppendMetadata() {
	srv := base.NewServer(native.New,
		base.OnRequest(func(ctx context.Context, s *base.Session, payload []byte) []byte {
			md := base.IncomingMetadata(ctx)
			return fmt.Appendf(nil, "hello %s of %s", md["user"], md["tenant"])
		}))
	client, stop := serveExample(srv)
	defer stop()

	ctx := base.AppendMetadata(context.Background(), "User", "ada", "tenant", "acme")
	resp, err := client.Request(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", resp)
	// Output: hello ada of acme
}

// A caller that gives up cancels the handler on the other end: its
// context ends at once.
func ExampleSession_Request_cancel() {
	started := make(chan struct{})
	stopped := make(chan error, 1)
	srv := base.NewServer(native.New,
		base.OnRequest(func(ctx context.Context, s *base.Session, payload []byte) []byte {
			close(started)
			<-ctx.Done() // a long job, stopped when the caller gives up
			stopped <- ctx.Err()
			return nil
		}))
	client, stop := serveExample(srv)
	defer stop()

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started // the job runs: give up on it
		cancel()
	}()
	_, err := client.Request(ctx, []byte("long job"))
	fmt.Println("caller:", err)
	fmt.Println("handler:", <-stopped)
	// Output:
	// caller: context canceled
	// handler: context canceled
}

// The handler's context has the caller's deadline, bounded by the
// server's own handler timeout.
func ExampleWithHandlerTimeout() {
	srv := base.NewServer(native.New,
		base.WithHandlerTimeout(time.Minute),
		base.OnRequest(func(ctx context.Context, s *base.Session, payload []byte) []byte {
			dl, ok := ctx.Deadline()
			return fmt.Appendf(nil, "deadline: %v, within 2 s: %v", ok, ok && time.Until(dl) <= 2*time.Second)
		}))
	client, stop := serveExample(srv)
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	resp, err := client.Request(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", resp)
	// Output: deadline: true, within 2 s: true
}
