package netmessage_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const waitTime = 10 * time.Second

type WeatherResponse struct {
	Forecast string
	Degrees  int
}

type WeatherRequest struct {
	netmessage.Returns[WeatherResponse]
	City string
	Date time.Time
}

type ChatMessage struct {
	Text string
	Seq  int
}

type Named struct{ V int }

func (Named) NetMessageTypeID() string { return "test.Named" }

type Clash struct{ V int }

func (Clash) NetMessageTypeID() string { return "test.Named" }

type PingResponse struct{}

type Ping struct {
	netmessage.Returns[PingResponse]
}

// env is a connected typed server and client.
type env struct {
	srv    *netmessage.Server
	client *netmessage.Client
	sess   *netmessage.Session
	errs   chan error
	unh    chan string
}

func start(t *testing.T, setup func(*netmessage.Server, *netmessage.Client), opts ...netmessage.Option) *env {
	t.Helper()
	e := &env{errs: make(chan error, 64), unh: make(chan string, 16)}
	opened := make(chan *netmessage.Session, 1)
	common := append([]netmessage.Option{
		netmessage.OnError(func(_ netmessage.Peer, err error) { e.errs <- err }),
		netmessage.OnUnhandled(func(_ netmessage.Peer, kind base.Kind, id string) { e.unh <- kind.String() + " " + id }),
	}, opts...)
	sopts := []netmessage.ServerOption{netmessage.OnSessionOpened(func(s *netmessage.Session) { opened <- s })}
	for _, o := range common {
		sopts = append(sopts, o)
	}
	var err error
	if e.srv, err = netmessage.NewServer(sopts...); err != nil {
		t.Fatal(err)
	}
	var copts []netmessage.ClientOption
	for _, o := range common {
		copts = append(copts, o)
	}
	if e.client, err = netmessage.NewClient(copts...); err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(e.srv, e.client)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); e.srv.Serve(ln) }()
	t.Cleanup(func() {
		e.client.Close()
		e.srv.Close()
		wg.Wait()
	})
	if err := e.client.Connect(ctx(t), ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	select {
	case e.sess = <-opened:
	case <-time.After(waitTime):
		t.Fatal("no session opened")
	}
	return e
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), waitTime)
	t.Cleanup(cancel)
	return c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestTypedRequestBothWays(t *testing.T) {
	date := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	e := start(t, func(srv *netmessage.Server, c *netmessage.Client) {
		must(t, netmessage.HandleRequest(srv, func(_ context.Context, _ *netmessage.Session, r WeatherRequest) (WeatherResponse, error) {
			return WeatherResponse{Forecast: "Sunny in " + r.City + " on " + r.Date.Format(time.DateOnly), Degrees: 21}, nil
		}))
		must(t, netmessage.HandleRequest(c, func(_ context.Context, _ *netmessage.Client, r WeatherRequest) (WeatherResponse, error) {
			return WeatherResponse{Forecast: "Rainy in " + r.City}, nil
		}))
	})
	resp, err := netmessage.Request(ctx(t), e.client, WeatherRequest{City: "Bonn", Date: date})
	must(t, err)
	if diff := cmp.Diff(WeatherResponse{Forecast: "Sunny in Bonn on 2026-01-02", Degrees: 21}, resp); diff != "" {
		t.Fatalf("client got (-want +got):\n%s", diff)
	}
	resp, err = netmessage.Request(ctx(t), e.sess, WeatherRequest{City: "Redmond"})
	must(t, err)
	if resp.Forecast != "Rainy in Redmond" {
		t.Fatalf("server got %+v", resp)
	}
}

func TestMessagesInOrderAndBroadcast(t *testing.T) {
	got := make(chan ChatMessage, 2000)
	e := start(t, func(srv *netmessage.Server, c *netmessage.Client) {
		must(t, netmessage.HandleMessage(srv, func(_ context.Context, _ *netmessage.Session, m ChatMessage) { got <- m }))
		must(t, netmessage.HandleMessage(c, func(_ context.Context, _ *netmessage.Client, m ChatMessage) { got <- m }))
	})
	for i := range 1000 {
		must(t, e.client.Send(ctx(t), ChatMessage{Text: "hi", Seq: i}))
	}
	for i := range 1000 {
		select {
		case m := <-got:
			if m.Seq != i {
				t.Fatalf("message %d arrived as %d", i, m.Seq)
			}
		case <-time.After(waitTime):
			t.Fatal("timeout")
		}
	}
	must(t, e.srv.Broadcast(ctx(t), &ChatMessage{Text: "all", Seq: -1}))
	select {
	case m := <-got:
		if m.Text != "all" {
			t.Fatalf("got %+v", m)
		}
	case <-time.After(waitTime):
		t.Fatal("no broadcast")
	}
}

func TestRemoteErrors(t *testing.T) {
	e := start(t, func(srv *netmessage.Server, _ *netmessage.Client) {
		must(t, netmessage.HandleRequest(srv, func(_ context.Context, _ *netmessage.Session, r WeatherRequest) (WeatherResponse, error) {
			switch r.City {
			case "nowhere":
				return WeatherResponse{}, errors.New("no such city")
			case "boom":
				panic("kaboom")
			case "verbose":
				return WeatherResponse{}, errors.New("start" + strings.Repeat("x", 1<<20) + "end")
			}
			return WeatherResponse{Forecast: "ok"}, nil
		}))
	})
	_, err := netmessage.Request(ctx(t), e.client, WeatherRequest{City: "nowhere"})
	var re *netmessage.RemoteError
	if !errors.As(err, &re) || re.Code != netmessage.CodeHandler || re.Message != "no such city" {
		t.Fatalf("handler error: %v", err)
	}
	// A long error text is cut, keeping its start and end.
	_, err = netmessage.Request(ctx(t), e.client, WeatherRequest{City: "verbose"})
	if !errors.As(err, &re) || re.Code != netmessage.CodeHandler || len(re.Message) > 1024 ||
		!strings.HasPrefix(re.Message, "startxxx") || !strings.HasSuffix(re.Message, "xxxend") ||
		!strings.Contains(re.Message, "bytes cut") {
		t.Fatalf("long handler error: %d bytes, %.100v", len(re.Message), err)
	}
	_, err = netmessage.Request(ctx(t), e.client, WeatherRequest{City: "boom"})
	if !errors.As(err, &re) || re.Code != netmessage.CodePanic {
		t.Fatalf("panic: %v", err)
	}
	select {
	case err := <-e.errs:
		var pe *base.PanicError
		if !errors.As(err, &pe) {
			t.Fatalf("error event %v, want a panic", err)
		}
	case <-time.After(waitTime):
		t.Fatal("no error event for the panic")
	}
	// The session lives on.
	resp, err := netmessage.Request(ctx(t), e.client, WeatherRequest{City: "Bonn"})
	if err != nil || resp.Forecast != "ok" {
		t.Fatalf("after panic: %+v, %v", resp, err)
	}
	// Unhandled: a clear error at once, and an event on the server.
	_, err = netmessage.Request(ctx(t), e.client, Ping{})
	if !errors.Is(err, netmessage.ErrUnhandled) {
		t.Fatalf("unhandled: %v", err)
	}
	select {
	case got := <-e.unh:
		if want := "request github.com/netmessage-go/netmessage/netmessage_test.Ping"; got != want {
			t.Fatalf("unhandled event %q, want %q", got, want)
		}
	case <-time.After(waitTime):
		t.Fatal("no unhandled event")
	}
	must(t, e.client.Send(ctx(t), Named{V: 1}))
	select {
	case got := <-e.unh:
		if got != "message test.Named" {
			t.Fatalf("unhandled event %q", got)
		}
	case <-time.After(waitTime):
		t.Fatal("no unhandled event")
	}
}

func TestRemoveHandler(t *testing.T) {
	e := start(t, func(srv *netmessage.Server, _ *netmessage.Client) {
		must(t, netmessage.HandleRequest(srv, func(context.Context, *netmessage.Session, Ping) (PingResponse, error) {
			return PingResponse{}, nil
		}))
	})
	if _, err := netmessage.Request(ctx(t), e.client, Ping{}); err != nil {
		t.Fatal(err)
	}
	if !netmessage.RemoveHandler[Ping](e.srv) {
		t.Fatal("RemoveHandler found no handler")
	}
	if netmessage.RemoveHandler[Ping](e.srv) {
		t.Fatal("RemoveHandler removed twice")
	}
	if _, err := netmessage.Request(ctx(t), e.client, Ping{}); !errors.Is(err, netmessage.ErrUnhandled) {
		t.Fatalf("after removal: %v", err)
	}
}

func TestTypeIDs(t *testing.T) {
	srv, err := netmessage.NewServer()
	must(t, err)
	h := func(context.Context, *netmessage.Session, Named) {}
	must(t, netmessage.HandleMessage(srv, h))
	err = netmessage.HandleMessage(srv, func(context.Context, *netmessage.Session, Clash) {})
	if !errors.Is(err, netmessage.ErrTypeID) {
		t.Fatalf("clashing ids: %v", err)
	}
	_, err = netmessage.NewServer(netmessage.WithTypeID[Named]("x"), netmessage.WithTypeID[ChatMessage]("x"))
	if !errors.Is(err, netmessage.ErrTypeID) {
		t.Fatalf("clashing explicit ids: %v", err)
	}
	// An explicit id overrides the method.
	srv, err = netmessage.NewServer(netmessage.WithTypeID[Clash]("test.Clash"))
	must(t, err)
	must(t, netmessage.HandleMessage(srv, h))
	must(t, netmessage.HandleMessage(srv, func(context.Context, *netmessage.Session, Clash) {}))
}

func TestExplicitTypeIDsOnTheWire(t *testing.T) {
	got := make(chan ChatMessage, 1)
	e := start(t, func(srv *netmessage.Server, _ *netmessage.Client) {
		must(t, netmessage.HandleMessage(srv, func(_ context.Context, _ *netmessage.Session, m ChatMessage) { got <- m }))
	}, netmessage.WithTypeID[ChatMessage]("Interop.ChatMessage"))
	must(t, e.client.Send(ctx(t), ChatMessage{Text: "x", Seq: 7}))
	select {
	case m := <-got:
		if m.Seq != 7 {
			t.Fatalf("got %+v", m)
		}
	case <-time.After(waitTime):
		t.Fatal("no message")
	}
}

func TestUnsendableResponseAnswersCaller(t *testing.T) {
	const limit = 256
	e := start(t, func(srv *netmessage.Server, _ *netmessage.Client) {
		must(t, netmessage.HandleRequest(srv, func(_ context.Context, _ *netmessage.Session, r WeatherRequest) (WeatherResponse, error) {
			if r.City == "big" {
				return WeatherResponse{Forecast: strings.Repeat("x", 4*limit)}, nil
			}
			return WeatherResponse{Forecast: "ok"}, nil
		}))
	}, netmessage.WithTransport(base.WithMaxPacketSize(limit), base.WithResponseTimeout(time.Hour)))
	// The response timeout is far longer than the test's context: the
	// answer must come from the server, not from a clock.
	_, err := netmessage.Request(ctx(t), e.client, WeatherRequest{City: "big"})
	var re *netmessage.RemoteError
	if !errors.As(err, &re) || re.Code != netmessage.CodeHandler ||
		!strings.Contains(re.Message, "response not sent") || !strings.Contains(re.Message, "too large") {
		t.Fatalf("oversize response: %v", err)
	}
	select {
	case err := <-e.errs:
		if !errors.Is(err, base.ErrPacketTooLarge) {
			t.Fatalf("error event %v, want ErrPacketTooLarge", err)
		}
	case <-time.After(waitTime):
		t.Fatal("no error event for the unsent response")
	}
	// The session lives on.
	resp, err := netmessage.Request(ctx(t), e.client, WeatherRequest{City: "Bonn"})
	if err != nil || resp.Forecast != "ok" {
		t.Fatalf("after oversize response: %+v, %v", resp, err)
	}
}

// Without an OnUnhandled hook, a message whose type has no handler raises
// an error event matching ErrUnhandled rather than vanishing.
func TestUnhandledMessageWithoutHook(t *testing.T) {
	errs := make(chan error, 4)
	srv, err := netmessage.NewServer(netmessage.OnError(func(_ netmessage.Peer, err error) { errs <- err }))
	must(t, err)
	addr := serveOn(t, srv)
	c, err := netmessage.NewClient()
	must(t, err)
	defer c.Close()
	must(t, c.Connect(ctx(t), addr))
	must(t, c.Send(ctx(t), Named{V: 1}))
	if err := recv(t, errs, "error event"); !errors.Is(err, netmessage.ErrUnhandled) || !strings.Contains(err.Error(), "test.Named") {
		t.Fatalf("error event %v, want ErrUnhandled naming test.Named", err)
	}
}
