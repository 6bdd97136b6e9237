package embedded_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/netmessage-go/netmessage/cluster/embedded"
)

// ExampleStart starts a NATS server on a free loopback port and sends a
// message through it: from a connection inside the process to one over
// TCP. A cluster.Node takes such connections.
func ExampleStart() {
	ns, err := embedded.Start("127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ns.Close()
	fmt.Println(strings.HasPrefix(ns.URL(), "nats://127.0.0.1:"))

	in, err := ns.Connect()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer in.Close()
	tcp, err := nats.Connect(ns.URL())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tcp.Close()

	sub, err := tcp.SubscribeSync("greetings")
	if err != nil {
		fmt.Println(err)
		return
	}
	tcp.Flush() // the subscription reaches the server before the publish
	in.Publish("greetings", []byte("hello"))
	msg, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %s\n", msg.Subject, msg.Data)
	// Output:
	// true
	// greetings: hello
}
