package netmessage_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"testing"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/serializers/msgpack"
)

// panicky is msgpack whose Unmarshal panics on data containing "boom",
// as a serializer (or a type's own decoding method) may on hostile input.
type panicky struct{ msgpack.Serializer }

func (p panicky) Unmarshal(data []byte, v any) error {
	if bytes.Contains(data, []byte("boom")) {
		panic("decoder exploded")
	}
	return p.Serializer.Unmarshal(data, v)
}

// TestDecodePanicAnswersCaller: a request whose decoding panics is answered
// at once with a *RemoteError (CodePanic), as a panic in the handler is,
// and raises a *base.PanicError event; the caller does not wait for its
// timeout.
func TestDecodePanicAnswersCaller(t *testing.T) {
	e := start(t, func(srv, _ *netmessage.Mux) {
		must(t, netmessage.HandleRequest(srv, func(_ context.Context, _ *base.Session, r WeatherRequest) (WeatherResponse, error) {
			return WeatherResponse{Forecast: "ok"}, nil
		}))
	}, netmessage.WithSerializer(panicky{msgpack.New()}))
	// The default response timeout outlasts this context: without an
	// answer the call fails with the context's error.
	c, cancel := context.WithTimeout(ctx(t), base.DefaultResponseTimeout/2)
	defer cancel()
	_, err := netmessage.Request(c, e.client, WeatherRequest{City: "boom"})
	var re *netmessage.RemoteError
	if !errors.As(err, &re) || re.Code != netmessage.CodePanic {
		t.Fatalf("request whose decoding panics: %v, want a *RemoteError with CodePanic", err)
	}
	var pe *base.PanicError
	if err := recv(t, e.errs, "the panic's error event"); !errors.As(err, &pe) {
		t.Fatalf("error event %v, want a *base.PanicError", err)
	}
	resp, err := netmessage.Request(ctx(t), e.client, WeatherRequest{City: "Bonn"})
	if err != nil || resp.Forecast != "ok" {
		t.Fatalf("after the panic: %+v, %v", resp, err)
	}
}

// TestPanickingHooksDoNotSilenceAnswers: an OnUnhandled or OnError hook
// that panics while a request is being refused does not stop the refusal
// from reaching the caller.
func TestPanickingHooksDoNotSilenceAnswers(t *testing.T) {
	unhandled := make(chan string, 1)
	reported := make(chan error, 4)
	smux, srv := typedServer(t,
		netmessage.OnUnhandled(func(_ *base.Session, _ base.Kind, id string) {
			unhandled <- id
			panic("unhandled hook exploded")
		}),
		base.OnError(func(_ *base.Session, err error) {
			reported <- err
			panic("error hook exploded")
		}),
	)
	must(t, netmessage.HandleRequest(smux, func(_ context.Context, _ *base.Session, r WeatherRequest) (WeatherResponse, error) {
		return WeatherResponse{Forecast: "ok"}, nil
	}))
	s := serveOn(t, srv)
	_, client := typedClient(t, netmessage.WithSerializer(mismatch{msgpack.New()}))
	t.Cleanup(func() { client.Close() })
	must(t, client.Connect(ctx(t), s))

	c, cancel := context.WithTimeout(ctx(t), base.DefaultResponseTimeout/2)
	defer cancel()
	_, err := netmessage.Request(c, client, Ping{})
	if !errors.Is(err, netmessage.ErrUnhandled) {
		t.Fatalf("unhandled request with a panicking hook: %v, want ErrUnhandled", err)
	}
	recv(t, unhandled, "the unhandled event")

	// mismatch sends a WeatherRequest the server cannot decode.
	_, err = netmessage.Request(c, client, WeatherRequest{City: "Bonn"})
	var re *netmessage.RemoteError
	if !errors.As(err, &re) || re.Code != netmessage.CodeBadRequest {
		t.Fatalf("undecodable request with a panicking hook: %v, want a *RemoteError with CodeBadRequest", err)
	}
	recv(t, reported, "the decode error event")
}

// mismatch is msgpack that encodes every WeatherRequest as a bare string,
// which a WeatherRequest cannot be decoded from.
type mismatch struct{ msgpack.Serializer }

func (m mismatch) Marshal(v any) ([]byte, error) {
	if _, ok := v.(WeatherRequest); ok {
		v = "not a struct"
	}
	return m.Serializer.Marshal(v)
}

func (m mismatch) MarshalAppend(dst []byte, v any) ([]byte, error) {
	if _, ok := v.(WeatherRequest); ok {
		v = "not a struct"
	}
	return m.Serializer.MarshalAppend(dst, v)
}

// serveOn serves srv on a loopback port until the test ends and returns
// the address.
func serveOn(t *testing.T, srv *base.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// refusing is msgpack that refuses to encode a WeatherResponse whose
// forecast is "unencodable".
type refusing struct{ msgpack.Serializer }

var errRefused = errors.New("refused to encode")

func (r refusing) check(v any) error {
	if w, ok := v.(WeatherResponse); ok && w.Forecast == "unencodable" {
		return errRefused
	}
	return nil
}

func (r refusing) Marshal(v any) ([]byte, error) {
	if err := r.check(v); err != nil {
		return nil, err
	}
	return r.Serializer.Marshal(v)
}

func (r refusing) MarshalAppend(dst []byte, v any) ([]byte, error) {
	if err := r.check(v); err != nil {
		return dst, err
	}
	return r.Serializer.MarshalAppend(dst, v)
}

// A response the serializer refuses answers the caller at once with a
// remote error saying it was not sent, and raises an error event.
func TestRefusedResponseAnswersCaller(t *testing.T) {
	e := start(t, func(srv, _ *netmessage.Mux) {
		must(t, netmessage.HandleRequest(srv, func(_ context.Context, _ *base.Session, r WeatherRequest) (WeatherResponse, error) {
			return WeatherResponse{Forecast: r.City}, nil
		}))
	}, netmessage.WithSerializer(refusing{msgpack.New()}))
	_, err := netmessage.Request(ctx(t), e.client, WeatherRequest{City: "unencodable"})
	var re *netmessage.RemoteError
	if !errors.As(err, &re) || re.Code != netmessage.CodeHandler ||
		!bytes.HasPrefix([]byte(re.Message), []byte("response not sent: ")) || !bytes.Contains([]byte(re.Message), []byte(errRefused.Error())) {
		t.Fatalf("refused response: %v", err)
	}
	if ev := recv(t, e.errs, "the error event"); !errors.Is(ev, errRefused) {
		t.Fatalf("error event %v", ev)
	}
	resp, err := netmessage.Request(ctx(t), e.client, WeatherRequest{City: "Bonn"})
	if err != nil || resp.Forecast != "Bonn" {
		t.Fatalf("after a refused response: %+v, %v", resp, err)
	}
}
