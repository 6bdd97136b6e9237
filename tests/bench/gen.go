package bench

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/serializers/msgpack"
	"github.com/netmessage-go/netmessage/tests/bench/genpacket"
)

// genPackets are packets converted to their generated twin.
var genPackets = [2]genpacket.Packet{genpacket.Packet(packets[Small]), genpacket.Packet(packets[Large])}

// Generated returns the contender that uses the typed netmessage API with
// the msgpack serializer and packet types whose MessagePack methods
// tinylib/msgp generated (package genpacket), which the serializer calls
// instead of encoding with reflection.
func Generated() Contender { return generated(base.DefaultHeartbeatInterval) }

func generated(interval time.Duration) Contender {
	opt := netmessage.WithTransport(base.WithHeartbeat(interval, receiveTimeout(interval)))
	return Contender{
		Name: "netmessage/msgpack-gen",
		Note: "typed API, msgpack serializer, packets with msgp-generated methods, native protocol, default options" +
			heartbeatNote(interval, base.DefaultHeartbeatInterval),
		Serve: func(ln net.Listener) (Server, error) { return serveGenerated(ln, opt) },
		Dial: func(ctx context.Context, addr string) (Client, error) {
			c, err := dialTyped(ctx, addr, msgpack.New(), opt)
			if err != nil {
				return nil, err
			}
			return &genClient{c.(*typedClient)}, nil
		},
		heartbeat:     interval,
		withHeartbeat: generated,
	}
}

func serveGenerated(ln net.Listener, opt netmessage.Option) (Server, error) {
	return serveWith(ln, msgpack.New(), opt, func(mux *netmessage.Mux, s *typedServer) error {
		return errors.Join(
			netmessage.HandleRequest(mux, func(_ context.Context, _ *base.Session, req genpacket.Call) (genpacket.Reply, error) {
				return genpacket.Reply{Packet: req.Packet}, nil
			}),
			netmessage.HandleMessage(mux, func(context.Context, *base.Session, genpacket.Note) { s.received.Add(1) }),
		)
	})
}

// genClient makes the calls of Generated.
type genClient struct{ *typedClient }

func (c *genClient) Call(ctx context.Context, size Size) error {
	resp, err := netmessage.Request(ctx, c.c, genpacket.Call{Packet: genPackets[size]})
	if err != nil {
		return err
	}
	got := Packet(resp.Packet)
	return check(&got, &packets[size])
}

func (c *genClient) Send(ctx context.Context, size Size) error {
	return netmessage.Send(ctx, c.c, genpacket.Note{Packet: genPackets[size]})
}
