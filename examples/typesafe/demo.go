package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/examples/typesafe/packets"
	"github.com/netmessage-go/netmessage/netmessage"
)

// demo runs a server and a client in this process: they exchange messages
// and requests both ways, then the client disconnects gracefully.
func demo(ctx context.Context, w io.Writer, set settings) error {
	out := &printer{w: w, lines: make(chan string, 64)}
	srvClosed := make(chan base.CloseReason, 1)
	cliClosed := make(chan base.CloseReason, 1)
	opened := make(chan *base.Session, 1)

	smux, err := set.mux(out, "server")
	if err != nil {
		return err
	}
	srv := netmessage.NewServer(smux,
		base.OnSessionOpened(func(s *base.Session) {
			out.printf("server: session %d opened from %s", s.ID(), s.RemoteAddr())
			select {
			case opened <- s: // the demo's one client
			default:
			}
		}),
		base.OnSessionClosed(func(s *base.Session, reason base.CloseReason) {
			out.printf("server: session %d closed: %s", s.ID(), reason.String())
			srvClosed <- reason
		}),
		base.OnError(func(_ *base.Session, err error) { out.printf("server: error: %v", err) }),
	)
	cmux, err := set.mux(out, "client")
	if err != nil {
		return err
	}
	client := netmessage.NewClient(cmux,
		base.OnConnected(func(*base.Session) { out.printf("client: connected") }),
		base.OnDisconnected(func(_ *base.Session, reason base.CloseReason) {
			out.printf("client: disconnected: %s", reason.String())
			cliClosed <- reason
		}),
		base.OnError(func(_ *base.Session, err error) { out.printf("client: error: %v", err) }),
	)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		srv.Close()
		<-served
	}()
	out.printf("server: listening on %s (serializer %s)", ln.Addr(), set.ser.Name())

	if err := client.Connect(ctx, ln.Addr().String()); err != nil {
		return err
	}
	defer client.Close()
	var sess *base.Session
	select {
	case sess = <-opened:
	case <-ctx.Done():
		return ctx.Err()
	}

	// Client to server, then server to client. Requests are handled
	// concurrently with messages, so the demo waits for each message to
	// be printed before it asks, to keep its output in order.
	if err := netmessage.Send(ctx, client, packets.ChatMessage{From: "client", Text: "hello, server", Seq: 1}); err != nil {
		return err
	}
	if err := waitLine(ctx, out, "server: received message"); err != nil {
		return err
	}
	if err := askWeather(ctx, client, out, "client", "Bonn"); err != nil {
		return err
	}
	if err := netmessage.Send(ctx, sess, packets.ChatMessage{From: "server", Text: "hello, client", Seq: 1}); err != nil {
		return err
	}
	if err := waitLine(ctx, out, "client: received message"); err != nil {
		return err
	}
	if err := askWeather(ctx, sess, out, "server", "Redmond"); err != nil {
		return err
	}
	if err := askTime(ctx, sess, out, "server"); err != nil {
		return err
	}
	// A handler's error reaches the caller as a typed remote error.
	_, err = netmessage.Request(ctx, client, packets.WeatherRequest{Date: time.Now()})
	var re *netmessage.RemoteError
	if !errors.As(err, &re) {
		return fmt.Errorf("empty city: want a remote error, got %v", err)
	}
	out.printf("client: request without a city failed as expected: %v", err)
	// Every call carries the shared token (attachToken adds it); a call
	// with a wrong one is refused before any handler runs.
	_, err = netmessage.Request(base.AppendMetadata(ctx, tokenKey, "wrong"), client, packets.TimeRequest{})
	if !errors.As(err, &re) || re.Code != netmessage.CodeUnauthenticated {
		return fmt.Errorf("wrong token: want an unauthenticated error, got %v", err)
	}
	out.printf("client: request with a wrong token refused as expected: %v", err)

	out.printf("client: disconnecting")
	if err := client.Disconnect(ctx); err != nil {
		return err
	}
	for _, ch := range []chan base.CloseReason{cliClosed, srvClosed} {
		select {
		case r := <-ch:
			if r != base.ReasonGraceful {
				return fmt.Errorf("closed with %s, want graceful shutdown", r)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	out.printf("server: shut down")
	return nil
}

// waitLine waits until out prints a line starting with prefix.
func waitLine(ctx context.Context, out *printer, prefix string) error {
	for {
		select {
		case line := <-out.lines:
			if strings.HasPrefix(line, prefix) {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
