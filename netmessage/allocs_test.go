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

// TestAllocsPerCall pins the allocations of a small typed request and
// message, so that one more per call shows as a failure.
func TestAllocsPerCall(t *testing.T) {
	if netmessage.RaceEnabled {
		t.Skip("the race detector makes sync.Pool drop entries at random")
	}
	m, err := netmessage.NewMux(netmessage.WithSerializer(pinSerializer{}))
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

	request := func() {
		resp, err := netmessage.Request(ctx, c, pinCall{N: 41, Text: pinText})
		if err != nil {
			t.Fatal(err)
		}
		if resp.N != 42 || resp.Text != pinText {
			t.Fatalf("response %+v", resp)
		}
	}
	var seq uint64 // not a constant, which the compiler would box statically
	message := func() {
		seq++
		if err := netmessage.Send(ctx, c, pinNote{N: seq, Text: pinText}); err != nil {
			t.Fatal(err)
		}
		<-received
	}
	for range 100 { // warm the pools
		request()
		message()
	}
	if n := testing.AllocsPerRun(1000, request); n != allocsPerRequest {
		t.Errorf("request: %v allocations per call, want %d", n, allocsPerRequest)
	}
	if n := testing.AllocsPerRun(1000, message); n != allocsPerMessage {
		t.Errorf("message: %v allocations per message, want %d", n, allocsPerMessage)
	}
}
