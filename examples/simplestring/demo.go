package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/examples/simplestring/strproto"
)

// demoTimeout bounds the whole demo.
const demoTimeout = 10 * time.Second

// demo runs a server and a client in this process, over loopback: the
// client sends the server a message and a request, the server sends the
// client a message and a request, each end answers by uppercasing; then
// the client disconnects gracefully and the server shuts down. It returns
// nil when all of that worked and no error event was raised.
func demo(ctx context.Context, w io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, demoTimeout)
	defer cancel()
	out := &printer{w: w}
	srvEv, cliEv := newEvents(out, "server"), newEvents(out, "client")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := base.NewServer(strproto.New, srvEv.serverOptions()...)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	out.printf("server: listening on %s", ln.Addr())

	client := base.NewClient(strproto.New, cliEv.clientOptions()...)
	err = converse(ctx, client, ln.Addr().String(), srvEv, cliEv)
	if s := client.Session(); s != nil {
		s.Close() // does nothing after a graceful disconnect
		<-s.Done()
	}

	out.printf("server: shutting down")
	if serr := srv.Shutdown(ctx); err == nil {
		err = serr
	}
	if serr := <-served; !errors.Is(serr, base.ErrServerClosed) && err == nil {
		err = serr
	}
	srvEv.wait()
	out.printf("server: stopped")
	return errors.Join(err, srvEv.err(), cliEv.err())
}

// converse connects the client and runs the exchange, one step at a time
// so that the output comes in a readable order.
func converse(ctx context.Context, client *base.Client, addr string, srvEv, cliEv *events) error {
	if err := client.Connect(ctx, addr); err != nil {
		return err
	}
	ss, err := await(ctx, srvEv.opened, "the server's session to open")
	if err != nil {
		return err
	}
	cs, err := await(ctx, cliEv.opened, "the client to connect")
	if err != nil {
		return err
	}

	if err := cliEv.tell(ctx, cs, "hello from the client"); err != nil {
		return err
	}
	if _, err := await(ctx, srvEv.received, "the server to receive the message"); err != nil {
		return err
	}
	if err := cliEv.ask(ctx, cs, "how are you, server?"); err != nil {
		return err
	}
	if err := srvEv.tell(ctx, ss, "hello from the server"); err != nil {
		return err
	}
	if _, err := await(ctx, cliEv.received, "the client to receive the message"); err != nil {
		return err
	}
	if err := srvEv.ask(ctx, ss, "and how are you, client?"); err != nil {
		return err
	}

	cliEv.out.printf("client: disconnecting")
	if err := client.Disconnect(ctx); err != nil {
		return err
	}
	_, err = await(ctx, ss.Done(), "the server's session to close")
	return err
}

// await receives from ch, or fails when ctx ends first.
func await[T any](ctx context.Context, ch <-chan T, what string) (T, error) {
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		var zero T
		return zero, fmt.Errorf("waiting for %s: %w", what, ctx.Err())
	}
}
