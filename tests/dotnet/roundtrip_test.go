package interop

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/netmessage/dotnet"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

func TestMessagesBothWays(t *testing.T) {
	atServer := make(chan ChatMessage, 1)
	atClient := make(chan ChatMessage, 1)
	s := startServer(t, func(srv *netmessage.Server) {
		netmessage.HandleMessage(srv, func(_ context.Context, _ *netmessage.Session, m ChatMessage) { atServer <- m })
	})
	c := s.connect(t, func(nc *netmessage.Client) {
		netmessage.HandleMessage(nc, func(_ context.Context, _ *netmessage.Client, m ChatMessage) { atClient <- m })
	})
	sent := ChatMessage{Text: "a<b & \"ü€😀\"\tz", Seq: -3}
	must(t, c.c.Send(ctxT(t), sent))
	if got := recv(t, atServer, "the message at the server"); got != sent {
		t.Errorf("server got %+v, want %+v", got, sent)
	}
	back := ChatMessage{Text: "hello from Go", Seq: 1}
	must(t, c.sess.Send(ctxT(t), &back))
	if got := recv(t, atClient, "the message at the client"); got != back {
		t.Errorf("client got %+v, want %+v", got, back)
	}
	s.ev.noErrors(t)
	c.ev.noErrors(t)
}

func TestRequestsBothWays(t *testing.T) {
	date := time.Date(2026, 11, 25, 12, 0, 0, 0, time.Local)
	s := startServer(t, serveWeather)
	c := s.connect(t, func(nc *netmessage.Client) {
		netmessage.HandleRequest(nc, func(_ context.Context, _ *netmessage.Client, r WeatherRequest) (WeatherResponse, error) {
			return WeatherResponse{Forecast: "Rainy in " + r.City + " on " + r.Date.Format(time.DateTime)}, nil
		})
	})
	resp, err := netmessage.Request(ctxT(t), c.c, WeatherRequest{City: "Bonn", Date: date})
	must(t, err)
	if resp.Forecast != "Sunny in Bonn" {
		t.Errorf("client got %q", resp.Forecast)
	}
	resp, err = netmessage.Request(ctxT(t), c.sess, WeatherRequest{City: "Redmond", Date: date})
	must(t, err)
	if want := "Rainy in Redmond on 2026-11-25 12:00:00"; resp.Forecast != want {
		t.Errorf("server got %q, want %q", resp.Forecast, want)
	}
}

func TestBurstInOrder(t *testing.T) {
	const n = 500
	atServer := make(chan ChatMessage, n)
	atClient := make(chan ChatMessage, n)
	s := startServer(t, func(srv *netmessage.Server) {
		netmessage.HandleMessage(srv, func(_ context.Context, _ *netmessage.Session, m ChatMessage) { atServer <- m })
		serveWeather(srv)
	})
	c := s.connect(t, func(nc *netmessage.Client) {
		netmessage.HandleMessage(nc, func(_ context.Context, _ *netmessage.Client, m ChatMessage) { atClient <- m })
		netmessage.HandleRequest(nc, func(ctx context.Context, p *netmessage.Client, r WeatherRequest) (WeatherResponse, error) {
			return weather(ctx, p, r)
		})
	})
	for i := range n {
		must(t, c.c.Send(ctxT(t), ChatMessage{Text: "to server", Seq: int32(i)}))
		must(t, c.sess.Send(ctxT(t), ChatMessage{Text: "to client", Seq: int32(i)}))
	}
	for i := range n {
		if m := recv(t, atServer, "a message at the server"); m.Seq != int32(i) {
			t.Fatalf("server got message %d at position %d", m.Seq, i)
		}
		if m := recv(t, atClient, "a message at the client"); m.Seq != int32(i) {
			t.Fatalf("client got message %d at position %d", m.Seq, i)
		}
	}

	// n concurrent requests each way, each answered with its own city.
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		for _, p := range []netmessage.Peer{c.c, c.sess} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				city := fmt.Sprintf("city-%d", i)
				resp, err := netmessage.Request(ctxT(t), p, WeatherRequest{City: city})
				if err == nil && resp.Forecast != "Sunny in "+city {
					err = fmt.Errorf("request %d answered %q", i, resp.Forecast)
				}
				if err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestRequestTimeout: the .NET protocol has no error responses, so a
// request whose handler fails, has no handler, or takes too long times out
// at the caller, and the answering end raises an error event.
func TestRequestTimeout(t *testing.T) {
	s := startServer(t, func(srv *netmessage.Server) {
		netmessage.HandleRequest(srv, func(_ context.Context, _ *netmessage.Session, r FailingRequest) (WeatherResponse, error) {
			return WeatherResponse{}, errors.New("no forecast for " + r.Why)
		})
		netmessage.HandleRequest(srv, func(ctx context.Context, _ *netmessage.Session, _ SlowRequest) (WeatherResponse, error) {
			<-ctx.Done()
			return WeatherResponse{}, ctx.Err()
		})
	})
	c := s.connect(t, nil, netmessage.WithTransport(base.WithResponseTimeout(200*time.Millisecond)))

	start := time.Now()
	_, err := netmessage.Request(ctxT(t), c.c, FailingRequest{Why: "Atlantis"})
	if !errors.Is(err, base.ErrRequestTimeout) {
		t.Fatalf("failing handler: got %v, want base.ErrRequestTimeout", err)
	}
	testutil.Within(t, "the timeout", time.Since(start), 200*time.Millisecond, 5*time.Second)
	if err := s.ev.expectError(t, dotnet.ErrErrorResponse); !containsAll(err.Error(), "handler error", "no forecast for Atlantis") {
		t.Errorf("error event %q does not carry the handler's error", err)
	}

	// No handler at all: unhandled event, error event, caller times out.
	netmessage.RemoveHandler[FailingRequest](s.srv)
	_, err = netmessage.Request(ctxT(t), c.c, FailingRequest{Why: "gone"})
	if !errors.Is(err, base.ErrRequestTimeout) {
		t.Fatalf("unhandled: got %v, want base.ErrRequestTimeout", err)
	}
	if ev := recv(t, s.ev.unhandled, "the unhandled event"); ev != (unhandledEvent{base.KindRequest, "Interop.FailingRequest"}) {
		t.Errorf("unhandled event %+v", ev)
	}
	s.ev.expectError(t, dotnet.ErrErrorResponse)

	// A handler that takes too long.
	ctx, cancel := context.WithTimeout(ctxT(t), 100*time.Millisecond)
	defer cancel()
	if _, err = netmessage.Request(ctx, c.c, SlowRequest{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow handler: got %v", err)
	}
	_, err = netmessage.Request(ctxT(t), c.c, SlowRequest{})
	if !errors.Is(err, base.ErrRequestTimeout) {
		t.Fatalf("slow handler: got %v, want base.ErrRequestTimeout", err)
	}
	c.ev.noErrors(t)
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// TestHeartbeatsKeepIdleConnection: with a 300 ms receive timeout and
// 50 ms heartbeats, a connection idle for a second stays open on both
// ends.
func TestHeartbeatsKeepIdleConnection(t *testing.T) {
	hb := netmessage.WithTransport(base.WithHeartbeat(50*time.Millisecond, 300*time.Millisecond))
	s := startServer(t, serveWeather, hb)
	c := s.connect(t, nil, hb)
	idle := time.NewTimer(time.Second)
	defer idle.Stop()
	select {
	case ev := <-s.ev.closed:
		t.Fatalf("server session closed while idle: %v", ev.reason)
	case ev := <-c.ev.closed:
		t.Fatalf("client closed while idle: %v", ev.reason)
	case <-idle.C:
	}
	resp, err := netmessage.Request(ctxT(t), c.c, WeatherRequest{City: "Bonn"})
	if err != nil || resp.Forecast != "Sunny in Bonn" {
		t.Fatalf("after idling: %+v, %v", resp, err)
	}
}

// TestHeartbeatsMissing: a peer that sends nothing (heartbeats off) is
// dropped after the receive timeout.
func TestHeartbeatsMissing(t *testing.T) {
	s := startServer(t, nil, netmessage.WithTransport(base.WithHeartbeat(50*time.Millisecond, 300*time.Millisecond)))
	c := s.connect(t, nil, netmessage.WithTransport(base.WithHeartbeat(0, 0)))
	ev := recv(t, s.ev.closed, "the server session to close")
	if ev.reason != base.ReasonConnectionLost {
		t.Errorf("server closed with %v, want %v", ev.reason, base.ReasonConnectionLost)
	}
	recv(t, c.ev.closed, "the client to close")
}

func TestGracefulDisconnect(t *testing.T) {
	t.Run("client", func(t *testing.T) {
		s := startServer(t, nil)
		c := s.connect(t, nil)
		must(t, c.c.Disconnect(ctxT(t)))
		expectClose(t, "server", s.ev.closed, c.sess, base.ReasonGraceful)
		expectClose(t, "client", c.ev.closed, c.c, base.ReasonGraceful)
	})
	t.Run("server", func(t *testing.T) {
		s := startServer(t, nil)
		c := s.connect(t, nil)
		must(t, c.sess.Disconnect(ctxT(t)))
		expectClose(t, "server", s.ev.closed, c.sess, base.ReasonGraceful)
		expectClose(t, "client", c.ev.closed, c.c, base.ReasonGraceful)
	})
}

func expectClose(t *testing.T, what string, ch <-chan closeEvent, peer netmessage.Peer, reason base.CloseReason) {
	t.Helper()
	ev := recv(t, ch, what+" close event")
	if ev.peer != peer || ev.reason != reason {
		t.Errorf("%s closed %p with %v, want %p with %v", what, ev.peer, ev.reason, peer, reason)
	}
}
