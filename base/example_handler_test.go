package base_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"os"
	"strings"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// shout is a Handler: the layer above the transport, here one that
// answers each request in upper case and reports messages it cannot use.
type shout struct{}

func (shout) ServeMessage(_ context.Context, s *base.Session, payload []byte) {
	s.ReportError(fmt.Errorf("message %q not wanted", payload))
}

func (shout) ServeRequest(_ context.Context, _ *base.Session, payload []byte) []byte {
	return []byte(strings.ToUpper(string(payload)))
}

func (shout) ServeUnsendable(*base.Session, error) []byte { return nil }

// A Handler serves every packet the server's sessions receive; the
// errors it reports are the sessions' error events.
func ExampleWithHandler() {
	errs := make(chan error, 1)
	srv := base.NewServer(native.New,
		base.WithHandler(shout{}),
		base.OnError(func(_ *base.Session, err error) { errs <- err }))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	ctx := context.Background()
	client := base.NewClient(native.New)
	if err := client.Connect(ctx, ln.Addr().String()); err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	resp, err := client.Request(ctx, []byte("hello"))
	fmt.Printf("%s %v\n", resp, err)
	client.SendMessage(ctx, []byte("psst"))
	fmt.Println(<-errs)
	// Output:
	// HELLO <nil>
	// message "psst" not wanted
}

// A handler and a hook for the same packets cannot both apply: the server
// refuses to run rather than drop one.
func ExampleErrInvalidOption() {
	srv := base.NewServer(native.New,
		base.WithHandler(shout{}),
		base.OnRequest(func(context.Context, *base.Session, []byte) []byte { return nil }))
	err := srv.ListenAndServe("127.0.0.1:0")
	fmt.Println(errors.Is(err, base.ErrInvalidOption))
	// Output: true
}

// WithLogger logs an end's sessions and error events with log/slog.
func ExampleWithLogger() {
	// Drop what changes from run to run: times and addresses.
	stable := func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey || a.Key == "addr" {
			return slog.Attr{}
		}
		return a
	}
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: stable}))
	closed := make(chan struct{})
	srv := base.NewServer(native.New,
		base.WithLogger(logger),
		base.OnSessionClosed(func(*base.Session, base.CloseReason) { close(closed) }))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	ctx := context.Background()
	client := base.NewClient(native.New)
	if err := client.Connect(ctx, ln.Addr().String()); err != nil {
		log.Fatal(err)
	}
	client.Disconnect(ctx)
	<-closed
	// Output:
	// level=INFO msg="netmessage session opened" peer.session=1
	// level=INFO msg="netmessage session closed" peer.session=1 reason="graceful shutdown"
}
