package embedded_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"

	"github.com/netmessage-go/netmessage/cluster/embedded"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStartConnectClose(t *testing.T) {
	s, err := embedded.Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// In process and over loopback TCP.
	in, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	tcp, err := nats.Connect(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	sub, err := tcp.SubscribeSync("x")
	if err != nil {
		t.Fatal(err)
	}
	tcp.Flush()
	in.Publish("x", []byte("hi"))
	m, err := sub.NextMsg(2 * time.Second)
	if err != nil || string(m.Data) != "hi" {
		t.Fatalf("%v %v", m, err)
	}
}

func TestStartBadAddr(t *testing.T) {
	for _, addr := range []string{"nohost", "127.0.0.1:x", "127.0.0.1:70000"} {
		if _, err := embedded.Start(addr); err == nil {
			t.Errorf("%q: no error", addr)
		}
	}
}
