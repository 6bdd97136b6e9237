package cluster_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/cluster"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/serializers/json"
)

func TestOptionsRefused(t *testing.T) {
	ns := startNATS(t, 0)
	nc := connectNATS(t, ns.ClientURL())
	_, srv := typedServer(t)
	defer srv.Close()
	for name, o := range map[string]cluster.Option{
		"name":      cluster.WithName(""),
		"cluster":   cluster.WithClusterName("a b"),
		"heartbeat": cluster.WithHeartbeat(time.Millisecond),
		"timeout":   cluster.WithRequestTimeout(0),
		"packet":    cluster.WithMaxPacketSize(10),
		"queue":     cluster.WithQueueSize(0),
		"requests":  cluster.WithMaxConcurrentRequests(0),
		"backlog":   cluster.WithMaxBacklog(-1),
	} {
		if _, err := cluster.New(srv, nc, o); !errors.Is(err, cluster.ErrBadOption) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := cluster.New(nil, nc); !errors.Is(err, cluster.ErrBadOption) {
		t.Errorf("nil server: %v", err)
	}
}

func TestClosedNode(t *testing.T) {
	url := startNATS(t, 0).ClientURL()
	a := startNode(t, url, "a")
	connectClient(t, a, "alice")
	s := a.srv.Sessions()[0]
	if err := a.node.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.node.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	ctx := context.Background()
	if err := a.node.Bind(s, "x"); !errors.Is(err, cluster.ErrClosed) {
		t.Fatalf("bind: %v", err)
	}
	if err := a.node.Send(ctx, "alice", Chat{}); !errors.Is(err, cluster.ErrClosed) {
		t.Fatalf("send: %v", err)
	}
	if _, err := cluster.Request(ctx, a.node, "alice", Who{}); !errors.Is(err, cluster.ErrClosed) {
		t.Fatalf("request: %v", err)
	}
	a.node.Unbind(s, "alice")
	a.node.Leave(s, "room")
}

func TestUnbind(t *testing.T) {
	a, b, _ := three(t)
	alice := connectClient(t, a, "alice")
	connectClient(t, a, "alice")
	waitOnline(t, "alice", []string{"a"}, b)
	s := a.srv.Sessions()[1]
	a.node.Unbind(s, "alice")
	if err := b.node.Send(context.Background(), "alice", Chat{Text: "one session left"}); err != nil {
		t.Fatal(err)
	}
	alice.expect(t, 1) // the first session, still bound
	a.node.Unbind(a.srv.Sessions()[0], "alice")
	waitOnline(t, "alice", nil, a, b)
}

// A cluster whose servers use JSON: the node encodes with its server's
// serializer, and clients decode what crossed NATS unchanged.
func TestOtherSerializer(t *testing.T) {
	url := startNATS(t, 0).ClientURL()
	ser := json.New()
	sopts := []any{netmessage.WithSerializer(ser)}
	a := startNodeWith(t, connectNATS(t, url), "a", sopts)
	b := startNodeWith(t, connectNATS(t, url), "b", sopts)
	cmux, c := typedClient(t, netmessage.WithSerializer(ser))
	defer c.Close()
	got := make(chan Chat, 1)
	netmessage.HandleMessage(cmux, func(ctx context.Context, _ *base.Session, m Chat) { got <- m })
	netmessage.HandleRequest(cmux, func(ctx context.Context, _ *base.Session, w Who) (WhoResp, error) {
		return WhoResp{User: "json", Q: w.Q}, nil
	})
	ctx := context.Background()
	if err := c.Connect(ctx, b.addr); err != nil {
		t.Fatal(err)
	}
	if _, err := netmessage.Request(ctx, c, Login{User: "j"}); err != nil {
		t.Fatal(err)
	}
	waitOnline(t, "j", []string{"b"}, a)
	if err := a.node.Send(ctx, "j", Chat{Text: "über"}); err != nil {
		t.Fatal(err)
	}
	if m := <-got; m.Text != "über" {
		t.Fatalf("got %+v", m)
	}
	resp, err := cluster.Request(ctx, a.node, "j", Who{Q: "q"})
	if err != nil || resp != (WhoResp{User: "json", Q: "q"}) {
		t.Fatalf("%+v %v", resp, err)
	}
}
