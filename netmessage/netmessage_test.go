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

// env is a connected typed server and client, each with a Mux of its own.
type env struct {
	smux   *netmessage.Mux // the server's
	cmux   *netmessage.Mux // the client's
	srv    *base.Server
	client *base.Client
	sess   *base.Session
	errs   chan error
	unh    chan string
}

// typedServer returns a Mux made of the netmessage options among opts and
// a server for it made with the base options among them.
func typedServer(t testing.TB, opts ...any) (*netmessage.Mux, *base.Server) {
	t.Helper()
	m, sopts := splitTyped[base.ServerOption](t, "server", opts)
	return m, netmessage.NewServer(m, sopts...)
}

// typedClient is typedServer for a client.
func typedClient(t testing.TB, opts ...any) (*netmessage.Mux, *base.Client) {
	t.Helper()
	m, copts := splitTyped[base.ClientOption](t, "client", opts)
	return m, netmessage.NewClient(m, copts...)
}

// splitTyped returns a Mux made of the netmessage options among opts and the
// options of type O among the rest; any other option fails the test.
func splitTyped[O any](t testing.TB, end string, opts []any) (*netmessage.Mux, []O) {
	t.Helper()
	var (
		mopts []netmessage.Option
		eopts []O
	)
	for _, o := range opts {
		switch o := o.(type) {
		case netmessage.Option:
			mopts = append(mopts, o)
		case O:
			eopts = append(eopts, o)
		default:
			t.Fatalf("%T is not a %s option", o, end)
		}
	}
	m, err := netmessage.NewMux(mopts...)
	if err != nil {
		t.Fatal(err)
	}
	return m, eopts
}

// start connects a typed server and client, both with opts (netmessage or
// base options), after setup registered handlers on their Muxes.
func start(t *testing.T, setup func(srv, client *netmessage.Mux), opts ...any) *env {
	t.Helper()
	e := &env{errs: make(chan error, 64), unh: make(chan string, 16)}
	opened := make(chan *base.Session, 1)
	common := append([]any{
		base.OnError(func(_ *base.Session, err error) { e.errs <- err }),
		netmessage.OnUnhandled(func(_ *base.Session, kind base.Kind, id string) { e.unh <- kind.String() + " " + id }),
	}, opts...)
	smux, srv := typedServer(t, append(common, base.OnSessionOpened(func(s *base.Session) { opened <- s }))...)
	cmux, client := typedClient(t, common...)
	e.smux, e.cmux, e.srv, e.client = smux, cmux, srv, client
	if setup != nil {
		setup(smux, cmux)
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
	e := start(t, func(srv, c *netmessage.Mux) {
		must(t, netmessage.HandleRequest(srv, func(_ context.Context, _ *base.Session, r WeatherRequest) (WeatherResponse, error) {
			return WeatherResponse{Forecast: "Sunny in " + r.City + " on " + r.Date.Format(time.DateOnly), Degrees: 21}, nil
		}))
		must(t, netmessage.HandleRequest(c, func(_ context.Context, _ *base.Session, r WeatherRequest) (WeatherResponse, error) {
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
	e := start(t, func(srv, c *netmessage.Mux) {
		must(t, netmessage.HandleMessage(srv, func(_ context.Context, _ *base.Session, m ChatMessage) { got <- m }))
		must(t, netmessage.HandleMessage(c, func(_ context.Context, _ *base.Session, m ChatMessage) { got <- m }))
	})
	for i := range 1000 {
		must(t, netmessage.Send(ctx(t), e.client, ChatMessage{Text: "hi", Seq: i}))
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
	must(t, netmessage.Broadcast(ctx(t), e.srv, &ChatMessage{Text: "all", Seq: -1}))
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
	e := start(t, func(srv, _ *netmessage.Mux) {
		must(t, netmessage.HandleRequest(srv, func(_ context.Context, _ *base.Session, r WeatherRequest) (WeatherResponse, error) {
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
	must(t, netmessage.Send(ctx(t), e.client, Named{V: 1}))
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
	e := start(t, func(srv, _ *netmessage.Mux) {
		must(t, netmessage.HandleRequest(srv, func(context.Context, *base.Session, Ping) (PingResponse, error) {
			return PingResponse{}, nil
		}))
	})
	if _, err := netmessage.Request(ctx(t), e.client, Ping{}); err != nil {
		t.Fatal(err)
	}
	if !netmessage.RemoveHandler[Ping](e.smux) {
		t.Fatal("RemoveHandler found no handler")
	}
	if netmessage.RemoveHandler[Ping](e.smux) {
		t.Fatal("RemoveHandler removed twice")
	}
	if _, err := netmessage.Request(ctx(t), e.client, Ping{}); !errors.Is(err, netmessage.ErrUnhandled) {
		t.Fatalf("after removal: %v", err)
	}
}

func TestTypeIDs(t *testing.T) {
	smux, err := netmessage.NewMux()
	must(t, err)
	h := func(context.Context, *base.Session, Named) {}
	must(t, netmessage.HandleMessage(smux, h))
	err = netmessage.HandleMessage(smux, func(context.Context, *base.Session, Clash) {})
	if !errors.Is(err, netmessage.ErrTypeID) {
		t.Fatalf("clashing ids: %v", err)
	}
	_, err = netmessage.NewMux(netmessage.WithTypeID[Named]("x"), netmessage.WithTypeID[ChatMessage]("x"))
	if !errors.Is(err, netmessage.ErrTypeID) {
		t.Fatalf("clashing explicit ids: %v", err)
	}
	// An explicit id overrides the method.
	smux, err = netmessage.NewMux(netmessage.WithTypeID[Clash]("test.Clash"))
	must(t, err)
	must(t, netmessage.HandleMessage(smux, h))
	must(t, netmessage.HandleMessage(smux, func(context.Context, *base.Session, Clash) {}))
}

func TestExplicitTypeIDsOnTheWire(t *testing.T) {
	got := make(chan ChatMessage, 1)
	e := start(t, func(srv, _ *netmessage.Mux) {
		must(t, netmessage.HandleMessage(srv, func(_ context.Context, _ *base.Session, m ChatMessage) { got <- m }))
	}, netmessage.WithTypeID[ChatMessage]("Interop.ChatMessage"))
	must(t, netmessage.Send(ctx(t), e.client, ChatMessage{Text: "x", Seq: 7}))
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
	e := start(t, func(srv, _ *netmessage.Mux) {
		must(t, netmessage.HandleRequest(srv, func(_ context.Context, _ *base.Session, r WeatherRequest) (WeatherResponse, error) {
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
	_, srv := typedServer(t, base.OnError(func(_ *base.Session, err error) { errs <- err }))
	addr := serveOn(t, srv)
	_, c := typedClient(t)
	defer c.Close()
	must(t, c.Connect(ctx(t), addr))
	must(t, netmessage.Send(ctx(t), c, Named{V: 1}))
	if err := recv(t, errs, "error event"); !errors.Is(err, netmessage.ErrUnhandled) || !strings.Contains(err.Error(), "test.Named") {
		t.Fatalf("error event %v, want ErrUnhandled naming test.Named", err)
	}
}
