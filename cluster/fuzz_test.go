package cluster

import (
	"encoding/binary"
	"testing"

	"github.com/netmessage-go/netmessage/cluster/embedded"
	"github.com/netmessage-go/netmessage/netmessage"

	"github.com/nats-io/nats.go"
)

// FuzzPackets feeds arbitrary packets to the parsers of every subject: they
// must return an error or deliver, never panic.
func FuzzPackets(f *testing.F) {
	ns, err := embedded.Start("")
	if err != nil {
		f.Fatal(err)
	}
	defer ns.Close()
	nc, err := ns.Connect()
	if err != nil {
		f.Fatal(err)
	}
	defer nc.Close()
	mux, err := netmessage.NewMux()
	if err != nil {
		f.Fatal(err)
	}
	srv := netmessage.NewServer(mux)
	defer srv.Close()
	n, err := New(srv, nc, WithMaxPacketSize(4096))
	if err != nil {
		f.Fatal(err)
	}
	defer n.Close()

	head := func(kind byte) []byte { return appendEnvelope(nil, kind, 7) }
	f.Add(uint8(0), []byte{})
	f.Add(uint8(0), append(head(kindMessage), 1, 'T', 0x90))
	f.Add(uint8(3), binary.AppendUvarint(head(kindRequest), 100))
	f.Add(uint8(5), binary.AppendUvarint(head(presHeartbeat), 3))
	f.Add(uint8(5), append(binary.AppendUvarint(head(presChange), 1), 1, 1, 'k'))
	f.Add(uint8(5), head(presBye))
	snaps := make(chan snapshot)
	subjects := []string{"all", "k.YQ", "g.YQ", "q.YQ", "zz", "p"}
	f.Fuzz(func(t *testing.T, subj uint8, data []byte) {
		s := subjects[int(subj)%len(subjects)]
		if s == "p" {
			n.presencePacket(data, snaps)
			return
		}
		m := &nats.Msg{Subject: n.prefix + s, Data: data}
		if subj&0x80 != 0 {
			m.Reply = "_INBOX.fuzz"
		}
		n.handlePacket(m)
	})
}
