package netmessage_test

// Authentication and metadata through interceptors, on both ends.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
)

type userKey struct{}

// requireToken is an inbound interceptor that admits calls whose
// "authorization" metadata is token, passing the handler the caller's name.
func requireToken(token string) netmessage.Interceptor {
	return func(ctx context.Context, call netmessage.Call, v any, next netmessage.Invoker) (any, error) {
		md := base.IncomingMetadata(ctx)
		if md["authorization"] != token {
			return nil, netmessage.Errorf(netmessage.CodeUnauthenticated, "%s %s needs a token", call.Kind, call.TypeID)
		}
		return next(context.WithValue(ctx, userKey{}, md["user"]), v)
	}
}

// attachToken is an outbound interceptor that adds token as the
// "authorization" metadata, unless the call has one.
func attachToken(token string) netmessage.Interceptor {
	return func(ctx context.Context, call netmessage.Call, v any, next netmessage.Invoker) (any, error) {
		if _, ok := base.OutgoingMetadata(ctx)["authorization"]; !ok {
			ctx = base.AppendMetadata(ctx, "authorization", token, "user", "gopher")
		}
		return next(ctx, v)
	}
}

func TestAuthInterceptorBothEnds(t *testing.T) {
	var handled recorder
	srvErrs := make(chan error, 8)
	cliErrs := make(chan error, 8)
	got := make(chan string, 8)
	p := connect(t,
		[]any{
			netmessage.WithInbound(requireToken("to-server")),
			netmessage.WithOutbound(attachToken("to-client")),
			base.OnError(func(_ *base.Session, err error) { srvErrs <- err }),
		},
		[]any{
			netmessage.WithInbound(requireToken("to-client")),
			netmessage.WithOutbound(attachToken("to-server")),
			base.OnError(func(_ *base.Session, err error) { cliErrs <- err }),
		},
		func(srv, c *netmessage.Mux) {
			must(t, netmessage.HandleRequest(srv, func(ctx context.Context, _ *base.Session, r WeatherRequest) (WeatherResponse, error) {
				handled.add("server %s", r.City)
				return WeatherResponse{Forecast: fmt.Sprint("sunny for ", ctx.Value(userKey{}))}, nil
			}))
			must(t, netmessage.HandleMessage(srv, func(_ context.Context, _ *base.Session, m ChatMessage) { got <- "server " + m.Text }))
			must(t, netmessage.HandleRequest(c, func(ctx context.Context, _ *base.Session, _ Ping) (PingResponse, error) {
				handled.add("client ping")
				return PingResponse{}, nil
			}))
			must(t, netmessage.HandleMessage(c, func(_ context.Context, _ *base.Session, m ChatMessage) { got <- "client " + m.Text }))
		})
	unauthenticated := func(err error) bool {
		var re *netmessage.RemoteError
		return errors.As(err, &re) && re.Code == netmessage.CodeUnauthenticated
	}

	// Client to server: admitted with the token, refused with a wrong one
	// before the handler runs, even for a type without a handler.
	resp, err := netmessage.Request(ctx(t), p.client, WeatherRequest{City: "Bonn"})
	if err != nil || resp.Forecast != "sunny for gopher" {
		t.Fatalf("with the token: %+v, %v", resp, err)
	}
	wrong := base.AppendMetadata(ctx(t), "authorization", "guess")
	if _, err := netmessage.Request(wrong, p.client, WeatherRequest{City: "Oslo"}); !unauthenticated(err) {
		t.Fatalf("with a wrong token: %v", err)
	}
	if _, err := netmessage.Request(wrong, p.client, Ping{}); !unauthenticated(err) {
		t.Fatalf("unhandled type with a wrong token: %v", err)
	}
	if h := handled.take(); !slices.Equal(h, []string{"server Bonn"}) {
		t.Fatalf("server handled %q", h)
	}
	// Messages: the refused one raises an error event on the server and
	// does not reach its handler.
	must(t, netmessage.Send(wrong, p.client, ChatMessage{Text: "refused"}))
	if err := recv(t, srvErrs, "server error event"); !unauthenticated(err) {
		t.Fatalf("server error event %v", err)
	}
	must(t, netmessage.Send(ctx(t), p.client, ChatMessage{Text: "admitted"}))
	if m := recv(t, got, "message"); m != "server admitted" {
		t.Fatalf("server got %q", m)
	}

	// Server to client: the same on the client's end.
	if _, err := netmessage.Request(ctx(t), p.sess, Ping{}); err != nil {
		t.Fatalf("server's request with the token: %v", err)
	}
	if _, err := netmessage.Request(base.AppendMetadata(ctx(t), "authorization", "to-server"), p.sess, Ping{}); !unauthenticated(err) {
		t.Fatalf("server's request with the wrong token: %v", err)
	}
	if h := handled.take(); !slices.Equal(h, []string{"client ping"}) {
		t.Fatalf("client handled %q", h)
	}
	must(t, netmessage.Send(base.AppendMetadata(ctx(t), "authorization", ""), p.sess, ChatMessage{Text: "refused"}))
	if err := recv(t, cliErrs, "client error event"); !unauthenticated(err) {
		t.Fatalf("client error event %v", err)
	}
	must(t, netmessage.Broadcast(ctx(t), p.srv, ChatMessage{Text: "broadcast"}))
	if m := recv(t, got, "message"); m != "client broadcast" {
		t.Fatalf("client got %q", m)
	}
	select {
	case err := <-srvErrs:
		t.Fatalf("server error event %v", err)
	case err := <-cliErrs:
		t.Fatalf("client error event %v", err)
	default:
	}
}

// TestClientWithoutInterceptorRefused checks that a client without the
// token interceptor is refused by a server that requires it.
func TestClientWithoutInterceptorRefused(t *testing.T) {
	p := connect(t, []any{netmessage.WithInbound(requireToken("s"))}, nil,
		func(srv, _ *netmessage.Mux) {
			must(t, netmessage.HandleRequest(srv, func(context.Context, *base.Session, Ping) (PingResponse, error) {
				return PingResponse{}, nil
			}))
		})
	_, err := netmessage.Request(ctx(t), p.client, Ping{})
	var re *netmessage.RemoteError
	if !errors.As(err, &re) || re.Code != netmessage.CodeUnauthenticated || re.Message != "request "+pingID+" needs a token" {
		t.Fatalf("without a token: %v", err)
	}
	if _, err := netmessage.Request(base.AppendMetadata(ctx(t), "authorization", "s"), p.client, Ping{}); err != nil {
		t.Fatalf("with the token: %v", err)
	}
}

// TestOutboundInterceptorAddsMetadata checks that metadata an outbound
// interceptor adds reaches the handlers of requests, messages and
// broadcasts.
func TestOutboundInterceptorAddsMetadata(t *testing.T) {
	var n atomic.Int32
	trace := func(ctx context.Context, call netmessage.Call, v any, next netmessage.Invoker) (any, error) {
		return next(base.AppendMetadata(ctx, "trace-id", fmt.Sprint(call.Kind, "-", n.Add(1))), v)
	}
	got := make(chan string, 4)
	p := connect(t, []any{netmessage.WithOutbound(trace)}, []any{netmessage.WithOutbound(trace)},
		func(srv, c *netmessage.Mux) {
			must(t, netmessage.HandleRequest(srv, func(ctx context.Context, _ *base.Session, _ Ping) (PingResponse, error) {
				got <- "server request " + base.IncomingMetadata(ctx)["trace-id"]
				return PingResponse{}, nil
			}))
			must(t, netmessage.HandleMessage(c, func(ctx context.Context, _ *base.Session, m ChatMessage) {
				got <- "client message " + base.IncomingMetadata(ctx)["trace-id"]
			}))
		})
	_, err := netmessage.Request(ctx(t), p.client, Ping{})
	must(t, err)
	if m := recv(t, got, "request"); m != "server request request-1" {
		t.Errorf("got %q", m)
	}
	must(t, netmessage.Broadcast(ctx(t), p.srv, ChatMessage{}))
	if m := recv(t, got, "broadcast"); m != "client message message-2" {
		t.Errorf("got %q", m)
	}
	must(t, netmessage.Send(ctx(t), p.sess, ChatMessage{}))
	if m := recv(t, got, "message"); m != "client message message-3" {
		t.Errorf("got %q", m)
	}
}
