package netmessage_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
)

// pinCall, pinReply and pinNote are encoded by pinSerializer, which
// allocates nothing, so that what a call allocates is the typed layer's
// own. The string field makes boxing them allocate, as boxing most packet
// types does.
type (
	pinCall struct {
		netmessage.Returns[pinReply]
		N    uint64
		Text string
	}
	pinReply struct {
		N    uint64
		Text string
	}
	pinNote struct {
		N    uint64
		Text string
	}
)

// pinText is the Text of every decoded pin packet.
const pinText = "pinned"

// pinSerializer writes a pin packet's N in 8 bytes and reads it back.
type pinSerializer struct{}

func (pinSerializer) Name() string { return "pin" }

func (s pinSerializer) Marshal(v any) ([]byte, error) { return s.MarshalAppend(nil, v) }

func (pinSerializer) MarshalAppend(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case pinCall:
		return binary.BigEndian.AppendUint64(dst, v.N), nil
	case pinReply:
		return binary.BigEndian.AppendUint64(dst, v.N), nil
	case pinNote:
		return binary.BigEndian.AppendUint64(dst, v.N), nil
	}
	return dst, fmt.Errorf("pin serializer: cannot marshal %T", v)
}

func (pinSerializer) Unmarshal(data []byte, v any) error {
	if len(data) != 8 {
		return fmt.Errorf("pin serializer: %d bytes", len(data))
	}
	n := binary.BigEndian.Uint64(data)
	switch v := v.(type) {
	case *pinCall:
		v.N, v.Text = n, pinText
	case *pinReply:
		v.N, v.Text = n, pinText
	case *pinNote:
		v.N, v.Text = n, pinText
	default:
		return fmt.Errorf("pin serializer: cannot unmarshal into %T", v)
	}
	return nil
}

// The allocations of a warm typed call, both ends together, with a
// serializer that allocates nothing. The transport allocates nothing per
// packet (see base's TestAllocsPerPacket), so these are the typed layer's:
// none for a request (the request and the response reach the serializer
// in reused memory, and the buffer of the encoded response comes back
// through ReleaseResponse); for a message, the message the caller boxed
// to pass it to Send.
const (
	allocsPerRequest = 0
	allocsPerMessage = 1
)

// With an inbound and an outbound interceptor that only call next, the
// values the interceptors see are boxed (an interceptor may keep them),
// and each end makes the invoker that runs the rest of the call: for a
// request, the request on each end, the response the caller decodes, the
// handler's response and the two invokers; for a message, the message on
// each end, the two invokers and the receiving end's record of an error
// its handler raised.
const (
	allocsPerInterceptedRequest = 6
	allocsPerInterceptedMessage = 5
)

// TestAllocsPerCall pins the allocations of a small typed request and
// message, with and without interceptors, so that one more per call shows
// as a failure.
func TestAllocsPerCall(t *testing.T) {
	if netmessage.RaceEnabled {
		t.Skip("the race detector makes sync.Pool drop entries at random")
	}
	noop := func(ctx context.Context, _ netmessage.Call, v any, next netmessage.Invoker) (any, error) {
		return next(ctx, v)
	}
	for _, c := range []struct {
		name             string
		opts             []netmessage.Option
		request, message float64
	}{
		{"plain", nil, allocsPerRequest, allocsPerMessage},
		{"intercepted", []netmessage.Option{netmessage.WithInbound(noop), netmessage.WithOutbound(noop)},
			allocsPerInterceptedRequest, allocsPerInterceptedMessage},
	} {
		t.Run(c.name, func(t *testing.T) {
			request, message := allocsPerCall(t, c.opts...)
			if request != c.request {
				t.Errorf("request: %v allocations per call, want %v", request, c.request)
			}
			if message != c.message {
				t.Errorf("message: %v allocations per message, want %v", message, c.message)
			}
		})
	}
}

// allocsPerCall returns the allocations of a warm request and message
// between a client and a server of one Mux made with opts.
func allocsPerCall(t *testing.T, opts ...netmessage.Option) (request, message float64) {
	m, err := netmessage.NewMux(append([]netmessage.Option{netmessage.WithSerializer(pinSerializer{})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	received := make(chan struct{})
	err = errors.Join(
		netmessage.HandleRequest(m, func(_ context.Context, _ *base.Session, req pinCall) (pinReply, error) {
			return pinReply{N: req.N + 1, Text: req.Text}, nil
		}),
		netmessage.HandleMessage(m, func(context.Context, *base.Session, pinNote) { received <- struct{}{} }),
	)
	if err != nil {
		t.Fatal(err)
	}
	srv := netmessage.NewServer(m)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { srv.Serve(ln) })
	defer wg.Wait()
	defer srv.Close()
	c := netmessage.NewClient(m)
	defer c.Close()
	ctx := context.Background() // no deadline or cancel: no call context in base
	if err := c.Connect(ctx, ln.Addr().String()); err != nil {
		t.Fatal(err)
	}

	call := func() {
		resp, err := netmessage.Request(ctx, c, pinCall{N: 41, Text: pinText})
		if err != nil {
			t.Fatal(err)
		}
		if resp.N != 42 || resp.Text != pinText {
			t.Fatalf("response %+v", resp)
		}
	}
	var seq uint64 // not a constant, which the compiler would box statically
	send := func() {
		seq++
		if err := netmessage.Send(ctx, c, pinNote{N: seq, Text: pinText}); err != nil {
			t.Fatal(err)
		}
		<-received
	}
	for range 100 { // warm the pools
		call()
		send()
	}
	return testing.AllocsPerRun(1000, call), testing.AllocsPerRun(1000, send)
}
