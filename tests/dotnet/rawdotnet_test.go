package interop

import (
	"context"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

type result struct {
	resp WeatherResponse
	err  error
}

// TestRawDotNetClient plays the captured .NET client against a Go server:
// the server must answer with the bytes the .NET server sent.
func TestRawDotNetClient(t *testing.T) {
	fromClient := captured(t, "session_client.bin") // chat, request, response, heartbeat
	fromServer := captured(t, "session_server.bin") // chat, response, request, heartbeat
	chats := make(chan ChatMessage, 1)
	answers := make(chan result, 1)
	s := startServer(t, func(srv *netmessage.Mux) {
		serveWeather(srv)
		netmessage.HandleMessage(srv, func(ctx context.Context, sess *base.Session, m ChatMessage) {
			chats <- m
			if err := netmessage.Send(ctx, sess, ChatMessage{Text: "hello from .NET", Seq: 1}); err != nil {
				t.Errorf("Send: %v", err)
			}
			go func() {
				resp, err := netmessage.Request(ctx, sess, WeatherRequest{City: "Redmond", Date: time.Date(2026, 11, 25, 12, 0, 0, 0, time.Local)})
				answers <- result{resp, err}
			}()
		})
	})
	raw := dialRaw(t, s.addr)
	sess := testutil.Recv(t, s.opened, "the session")

	raw.send(fromClient[0], fromClient[1])
	if m := testutil.Recv(t, chats, "the chat message"); m != (ChatMessage{Text: "hi from .NET client", Seq: 7}) {
		t.Errorf("server got %+v", m)
	}
	raw.expect(fromServer[:3]...)
	raw.send(fromClient[2], fromClient[3])
	if r := testutil.Recv(t, answers, "the answer to the server's request"); r.err != nil || r.resp.Forecast != "Rainy in Redmond" {
		t.Errorf("server's request got %+v, %v", r.resp, r.err)
	}

	raw.closeWrite()
	raw.expectEOF()
	expectClose(t, "server", s.ev.closed, sess, base.ReasonGraceful)
	s.ev.noErrors(t)
}

// TestRawDotNetServer plays the captured .NET server against a Go client:
// the client must send the bytes the .NET client sent.
func TestRawDotNetServer(t *testing.T) {
	fromClient := captured(t, "session_client.bin")
	fromServer := captured(t, "session_server.bin")
	chats := make(chan ChatMessage, 1)
	c, raw, ev := connectToRaw(t, func(c *netmessage.Mux) {
		netmessage.HandleMessage(c, func(_ context.Context, _ *base.Session, m ChatMessage) { chats <- m })
		netmessage.HandleRequest(c, func(_ context.Context, _ *base.Session, r WeatherRequest) (WeatherResponse, error) {
			return WeatherResponse{Forecast: "Rainy in " + r.City}, nil
		})
	})

	testutil.Must(t, netmessage.Send(testutil.Ctx(t), c, ChatMessage{Text: "hi from .NET client", Seq: 7}))
	answers := make(chan result, 1)
	go func() {
		resp, err := netmessage.Request(testutil.Ctx(t), c, WeatherRequest{City: "Bonn", Date: time.Date(2026, 1, 2, 0, 0, 0, 0, time.Local)})
		answers <- result{resp, err}
	}()
	raw.expect(fromClient[0])
	raw.expect(fromClient[1])

	raw.send(fromServer[0], fromServer[1], fromServer[2], fromServer[3])
	if m := testutil.Recv(t, chats, "the chat message"); m != (ChatMessage{Text: "hello from .NET", Seq: 1}) {
		t.Errorf("client got %+v", m)
	}
	if r := testutil.Recv(t, answers, "the answer"); r.err != nil || r.resp.Forecast != "Sunny in Bonn" {
		t.Errorf("client's request got %+v, %v", r.resp, r.err)
	}
	raw.expect(fromClient[2])

	done := make(chan error, 1)
	go func() { done <- c.Disconnect(testutil.Ctx(t)) }()
	raw.expectEOF()
	raw.closeWrite()
	testutil.Must(t, testutil.Recv(t, done, "Disconnect to return"))
	expectClose(t, "client", ev.closed, c.Session(), base.ReasonGraceful)
	ev.noErrors(t)
}
