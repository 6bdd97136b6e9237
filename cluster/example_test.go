package cluster_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/cluster"
	"github.com/netmessage-go/netmessage/cluster/embedded"
	"github.com/netmessage-go/netmessage/netmessage"
)

type (
	// Hello logs a session in as User.
	Hello struct {
		netmessage.Returns[Hello]
		User string
	}
	// Note is a message for a user.
	Note struct{ Text string }
	// Ping asks a user for a Pong.
	Ping struct{ netmessage.Returns[Pong] }
	Pong struct{ From string }
)

// Two servers joined through an embedded NATS server: a Note and a Ping
// sent on server a reach the user connected to server b.
func Example() {
	ns, err := embedded.Start("")
	if err != nil {
		panic(err)
	}
	defer ns.Close()

	// A server that binds each session to the user it says hello as.
	start := func(name string) (*cluster.Node, string, func()) {
		nc, _ := ns.Connect()
		mux, _ := netmessage.NewMux()
		srv := netmessage.NewServer(mux)
		node, _ := cluster.New(srv, nc, cluster.WithName(name))
		netmessage.HandleRequest(mux, func(ctx context.Context, s *base.Session, h Hello) (Hello, error) {
			return h, node.Bind(s, h.User) // authenticate before binding
		})
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		go srv.Serve(ln)
		return node, ln.Addr().String(), func() { node.Close(); srv.Close(); nc.Close() }
	}
	a, _, stopA := start("a")
	defer stopA()
	b, addrB, stopB := start("b")
	defer stopB()

	// bob connects to server b.
	ctx := context.Background()
	bobMux, _ := netmessage.NewMux()
	bob := netmessage.NewClient(bobMux)
	notes := make(chan Note, 1)
	netmessage.HandleMessage(bobMux, func(ctx context.Context, _ *base.Session, n Note) { notes <- n })
	netmessage.HandleRequest(bobMux, func(ctx context.Context, _ *base.Session, _ Ping) (Pong, error) {
		return Pong{From: "bob"}, nil
	})
	bob.Connect(ctx, addrB)
	defer bob.Close()
	netmessage.Request(ctx, bob, Hello{User: "bob"})
	for len(a.Lookup("bob")) == 0 { // until a sees bob on b
		time.Sleep(time.Millisecond)
	}
	fmt.Println("bob is on", a.Lookup("bob"), "; b is", b.Name())

	// Server a reaches him.
	a.Send(ctx, "bob", Note{Text: "hello from a"})
	fmt.Println("bob got:", (<-notes).Text)
	pong, err := cluster.Request(ctx, a, "bob", Ping{}) // pong is a Pong
	fmt.Println("pong from", pong.From, err)
	_, err = cluster.Request(ctx, a, "nobody", Ping{})
	fmt.Println(err)
	// Output:
	// bob is on [b] ; b is b
	// bob got: hello from a
	// pong from bob <nil>
	// cluster: request to key "nobody": cluster: no session bound to the key
}
