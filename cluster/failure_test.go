package cluster_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/cluster"
	"github.com/netmessage-go/netmessage/netmessage"
)

func TestNATSRestart(t *testing.T) {
	ns := startNATS(t, 0)
	port := ns.Addr().(*net.TCPAddr).Port
	url := ns.ClientURL()
	a, b := startNode(t, url, "a"), startNode(t, url, "b")
	alice := connectClient(t, a, "alice")
	bob := connectClient(t, b, "bob")
	waitOnline(t, "bob", []string{"b"}, a)
	ctx := context.Background()

	stopNATS(ns)
	waitFor(t, "a disconnected", func() bool { return !a.nc.IsConnected() })

	// This server's sessions are still served.
	err := a.node.Send(ctx, "alice", Chat{Text: "local"})
	if !errors.Is(err, cluster.ErrUnavailable) {
		t.Fatalf("send while NATS is down: %v", err)
	}
	alice.expect(t, 1)
	if resp, err := cluster.Request(ctx, a.node, "alice", Who{}); err != nil || resp.User != "alice" {
		t.Fatalf("local request while NATS is down: %+v %v", resp, err)
	}
	// Other servers fail fast.
	start := time.Now()
	if _, err := cluster.Request(ctx, a.node, "bob", Who{}); !errors.Is(err, cluster.ErrUnavailable) {
		t.Fatalf("remote request while NATS is down: %v", err)
	}
	if err := a.node.Broadcast(ctx, Chat{Text: "local broadcast"}); !errors.Is(err, cluster.ErrUnavailable) {
		t.Fatalf("broadcast while NATS is down: %v", err)
	}
	if d := time.Since(start); d > time.Second { // the request timeout is 10 s
		t.Fatalf("failing took %v", d)
	}
	alice.expect(t, 1)
	bob.none(t)
	waitFor(t, "b out of a's presence", func() bool { return len(a.node.Nodes()) == 1 })

	startNATS(t, port)
	waitOnline(t, "bob", []string{"b"}, a)
	waitOnline(t, "alice", []string{"a"}, b)
	if err := a.node.Send(ctx, "bob", Chat{Text: "back"}); err != nil {
		t.Fatal(err)
	}
	if got := bob.expect(t, 1); got[0].Text != "back" {
		t.Fatalf("bob got %+v", got)
	}
	if resp, err := cluster.Request(ctx, a.node, "bob", Who{}); err != nil || resp.User != "bob" {
		t.Fatalf("remote request after restart: %+v %v", resp, err)
	}
}

func TestNATSClusterOfThree(t *testing.T) {
	nss := startNATSCluster(t, 3)
	var urls []string
	for _, ns := range nss {
		urls = append(urls, ns.ClientURL())
	}
	var nodes []*tnode
	for i, ns := range nss {
		// Each server prefers its own NATS server and knows the others.
		list := append([]string{ns.ClientURL()}, urls...)
		nc, err := nats.Connect(strings.Join(list, ","), nats.DontRandomize(), nats.MaxReconnects(-1),
			nats.ReconnectWait(20*time.Millisecond), nats.ReconnectJitter(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		nodes = append(nodes, startNodeWith(t, nc, fmt.Sprint("n", i), nil))
	}
	var users []*tclient
	for i, tn := range nodes {
		users = append(users, connectClient(t, tn, fmt.Sprint("u", i), "room"))
	}
	for i := range nodes {
		waitOnline(t, fmt.Sprint("u", i), []string{fmt.Sprint("n", i)}, nodes...)
	}
	ctx := context.Background()
	if err := nodes[0].node.Send(ctx, "u2", Chat{Text: "key"}); err != nil {
		t.Fatal(err)
	}
	users[2].expect(t, 1)
	if err := nodes[1].node.SendGroup(ctx, "room", Chat{Text: "group"}); err != nil {
		t.Fatal(err)
	}
	if err := nodes[2].node.Broadcast(ctx, Chat{Text: "all"}); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		u.expect(t, 2)
	}
	resp, err := cluster.Request(ctx, nodes[0].node, "u1", Who{Q: "across routes"})
	if err != nil || resp.User != "u1" {
		t.Fatalf("request: %+v %v", resp, err)
	}

	// The NATS server of n2 goes away: n2 fails over to another and its
	// keys are reachable again. A request sent while the route is going
	// down can be lost, so each try has a short deadline.
	stopNATS(nss[2])
	var last error
	deadline := time.Now().Add(5 * time.Second)
	for {
		tctx, cancel := context.WithTimeout(ctx, 250*time.Millisecond)
		resp, err := cluster.Request(tctx, nodes[0].node, "u2", Who{})
		cancel()
		if err == nil && resp.User == "u2" {
			break
		}
		last = err
		if time.Now().After(deadline) {
			t.Fatalf("u2 not reachable after failover: %v; n2 %v at %s", last, nodes[2].nc.Status(), nodes[2].nc.ConnectedUrl())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := nodes[0].node.SendGroup(ctx, "room", Chat{Text: "after failover"}); err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		u.expect(t, 1)
	}
}

func TestOrderNoDuplicates(t *testing.T) {
	a, b, c := three(t)
	bob1 := connectClient(t, b, "bob", "room")
	bob2 := connectClient(t, c, "bob", "room")
	waitOnline(t, "bob", []string{"b", "c"}, a)
	ctx := context.Background()
	const n = 500
	for i := range n {
		if err := a.node.Send(ctx, "bob", Chat{From: "a", Seq: i}); err != nil {
			t.Fatal(err)
		}
		if err := b.node.SendGroup(ctx, "room", Chat{From: "b", Seq: i}); err != nil {
			t.Fatal(err)
		}
	}
	for _, bob := range []*tclient{bob1, bob2} {
		next := map[string]int{}
		for _, m := range bob.expect(t, 2*n) {
			if m.Seq != next[m.From] {
				t.Fatalf("from %s: got seq %d, want %d", m.From, m.Seq, next[m.From])
			}
			next[m.From]++
		}
	}
}

func TestClusterNamesDoNotMix(t *testing.T) {
	url := startNATS(t, 0).ClientURL()
	a := startNode(t, url, "a", cluster.WithClusterName("one"))
	b := startNode(t, url, "b", cluster.WithClusterName("two"))
	a2 := startNode(t, url, "a2", cluster.WithClusterName("one"))
	ua := connectClient(t, a, "u")
	ub := connectClient(t, b, "u")
	waitOnline(t, "u", []string{"a"}, a2)
	if err := a2.node.Broadcast(context.Background(), Chat{Text: "one"}); err != nil {
		t.Fatal(err)
	}
	if err := a2.node.Send(context.Background(), "u", Chat{Text: "one"}); err != nil {
		t.Fatal(err)
	}
	ua.expect(t, 2)
	ub.none(t)
	if got := b.node.Lookup("u"); fmt.Sprint(got) != "[b]" {
		t.Fatalf("cluster two sees u on %v", got)
	}
	if _, err := cluster.New(a.srv, a.nc, cluster.WithClusterName("a.b")); !errors.Is(err, cluster.ErrBadOption) {
		t.Fatalf("bad cluster name: %v", err)
	}
}

func TestBadInputIsAnErrorEvent(t *testing.T) {
	ns := startNATS(t, 0)
	a := startNode(t, ns.ClientURL(), "a", cluster.WithMaxPacketSize(4096))
	b := startNode(t, ns.ClientURL(), "b")
	alice := connectClient(t, a, "alice")
	waitOnline(t, "alice", []string{"a"}, b)
	raw := connectNATS(t, ns.ClientURL())
	tok := base64.RawURLEncoding.EncodeToString([]byte("alice"))
	header := func(kind byte) []byte { return append([]byte{kind}, 1, 2, 3, 4, 5, 6, 7, 8) }
	cases := []struct {
		subject string
		data    []byte
		want    error
	}{
		{"netmessage.default.all", []byte("x"), cluster.ErrMalformed},
		{"netmessage.default.all", append(header(1), 0xff, 0xff, 0xff), cluster.ErrMalformed},
		{"netmessage.default.k." + tok, append(header(1), 200, 1, 'x'), cluster.ErrMalformed},
		{"netmessage.default.k." + tok, append(header(1), bytes.Repeat([]byte{1}, 5000)...), cluster.ErrTooLarge},
		{"netmessage.default.k." + tok, append(header(9), 1, 'x'), cluster.ErrMalformed},
		{"netmessage.default.p", []byte{0x11, 1}, cluster.ErrMalformed},
		{"netmessage.default.p", append(header(0x11), 1, 0xff, 0xff, 0xff, 0xff, 0x0f), cluster.ErrMalformed},
		{"netmessage.default.p", append(header(0x12), 1, 1, 100, 'k'), cluster.ErrMalformed},
	}
	for _, c := range cases {
		if err := raw.Publish(c.subject, c.data); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-a.errs:
			var pe *cluster.PacketError
			if !errors.Is(err, c.want) || !errors.As(err, &pe) || pe.Subject != c.subject {
				t.Fatalf("%s %x: event %v, want %v", c.subject, c.data, err, c.want)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("%s %x: no error event", c.subject, c.data)
		}
	}
	// A malformed request is answered with an error.
	reply, err := raw.Request("netmessage.default.q."+tok, append(header(2), 0), time.Second)
	if err != nil || len(reply.Data) == 0 || reply.Data[0] != 3 {
		t.Fatalf("bad request: %v %v", reply, err)
	}
	<-a.errs
	// A well-formed request of another type is answered by the session.
	var pkt []byte
	pkt = binary.AppendUvarint(header(2), 1000)
	pkt = binary.AppendUvarint(pkt, 4)
	pkt = append(pkt, "nope"...)
	reply, err = raw.Request("netmessage.default.q."+tok, pkt, time.Second)
	if err != nil || len(reply.Data) < 2 || reply.Data[0] != 0 || netmessage.ErrorCode(reply.Data[1]) != netmessage.CodeUnhandled {
		t.Fatalf("unknown type: %v %v", reply, err)
	}
	// The servers carry on.
	if err := b.node.Send(context.Background(), "alice", Chat{Text: "still here"}); err != nil {
		t.Fatal(err)
	}
	alice.expect(t, 1)
}

// smallSendBuffer is a listener whose connections have a small kernel
// send buffer, so that a client that stops reading fills its session's
// write buffer soon.
type smallSendBuffer struct{ net.Listener }

func (l smallSendBuffer) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(8 << 10)
	}
	return c, err
}

// startSmallSendNode is startNode for a server whose connections have
// small socket send buffers (see smallSendBuffer), with server options
// sopts.
func startSmallSendNode(t *testing.T, url, name string, sopts []any, opts ...cluster.Option) *tnode {
	t.Helper()
	return startNodeOn(t, smallSendBuffer{listen(t)}, connectNATS(t, url), name, sopts, opts...)
}

func TestSlowSessionDoesNotStallOthers(t *testing.T) {
	url := startNATS(t, 0).ClientURL()
	a := startNode(t, url, "a")
	b := startSmallSendNode(t, url, "b", []any{
		netmessage.WithTransport(base.WithMaxWriteBuffer(32 << 10)),
	}, cluster.WithMaxBacklog(256<<10))
	fast1 := connectClient(t, b, "fast1", "room")
	fast2 := connectClient(t, a, "fast2", "room")

	// slow reads nothing once its first message arrives.
	release := make(chan struct{})
	slow := slowClient(t, b, release, nil)
	defer close(release)
	ctx := context.Background()
	if _, err := netmessage.Request(ctx, slow, Login{User: "slow", Groups: []string{"room"}}); err != nil {
		t.Fatal(err)
	}
	waitOnline(t, "slow", []string{"b"}, a)

	// 800 KiB in windows of 20 messages (80 KiB), each received by both
	// fast sessions before the next is sent.
	const n, window = 200, 20
	text := strings.Repeat("x", 4<<10)
	start := time.Now()
	for i := 0; i < n; i += window {
		for j := i; j < i+window; j++ {
			if err := a.node.SendGroup(ctx, "room", Chat{From: "a", Seq: j, Text: text}); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range []*tclient{fast1, fast2} {
			for j := i; j < i+window; j++ {
				select {
				case m := <-f.got:
					if m.Seq != j {
						t.Fatalf("%s got %d, want %d", f.user, m.Seq, j)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("%s: no message %d", f.user, j)
				}
			}
		}
	}
	t.Logf("%d messages of 4 KiB to both fast sessions in %v", n, time.Since(start))
	select {
	case err := <-b.errs:
		if !errors.Is(err, base.ErrWriteBufferFull) {
			t.Fatalf("event: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("no event for the slow session")
	}
}

// A node first heard of by a change, before its heartbeat, is listed
// only once its key set names it.
func TestPeerListedOnceNamed(t *testing.T) {
	ns := startNATS(t, 0)
	a := startNode(t, ns.ClientURL(), "a", cluster.WithHeartbeat(2*time.Second))
	raw := connectNATS(t, ns.ClientURL())
	asked, err := raw.SubscribeSync("netmessage.default.s.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Flush(); err != nil {
		t.Fatal(err)
	}
	// A change from node 0102030405060708, seq 1: bound "k".
	change := append([]byte{0x12, 1, 2, 3, 4, 5, 6, 7, 8}, 1, 1, 1, 'k')
	if err := raw.Publish("netmessage.default.p", change); err != nil {
		t.Fatal(err)
	}
	req, err := asked.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("no snapshot request after a change from an unknown node: %v", err)
	}
	if req.Subject != "netmessage.default.s.0102030405060708" {
		t.Fatalf("snapshot asked on %s", req.Subject)
	}
	if diff := cmp.Diff([]cluster.NodeInfo{{Name: "a"}}, a.node.Nodes()); diff != "" {
		t.Fatalf("before its name is known (-want +got)\n%s", diff)
	}
	// Its key set: seq 1, name "ghost", one key "k".
	if err := req.Respond(append([]byte{1, 5}, "ghost\x01\x01k"...)); err != nil {
		t.Fatal(err)
	}
	want := []cluster.NodeInfo{{Name: "a"}, {Name: "ghost", Keys: []string{"k"}}}
	waitFor(t, "ghost listed", func() bool { return cmp.Diff(want, a.node.Nodes()) == "" })
	if got := a.node.Lookup("k"); fmt.Sprint(got) != "[ghost]" {
		t.Fatalf("Lookup(k) = %v", got)
	}
}

// slowClient connects a client to tn whose message hook holds each
// message until release is closed (then passes it to got, if not nil):
// with its small queue and receive buffer, the server soon cannot send it
// more. It is closed when the test ends.
func slowClient(t *testing.T, tn *tnode, release <-chan struct{}, got chan<- Chat) *base.Client {
	t.Helper()
	mux, c := typedClient(t,
		netmessage.WithTransport(base.WithMaxQueuedBytes(16<<10)),
		base.WithDialer(func(ctx context.Context, network, addr string) (net.Conn, error) {
			d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
				return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
			}}
			return d.DialContext(ctx, network, addr)
		}))
	netmessage.HandleMessage(mux, func(ctx context.Context, _ *base.Session, m Chat) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		if got != nil {
			got <- m
		}
	})
	if err := c.Connect(context.Background(), tn.addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// A message that a slow session's backlog cannot send (larger than the
// session's packet limit) is dropped with an error event, and the
// messages queued behind it still arrive.
func TestBacklogKeepsGoingPastAFailedMessage(t *testing.T) {
	url := startNATS(t, 0).ClientURL()
	a := startNode(t, url, "a")
	b := startSmallSendNode(t, url, "b", []any{
		netmessage.WithTransport(base.WithMaxWriteBuffer(32<<10), base.WithMaxPacketSize(16<<10)),
	})

	// slow reads nothing until released.
	release := make(chan struct{})
	got := make(chan Chat, 1000)
	slow := slowClient(t, b, release, got)
	ctx := context.Background()
	if _, err := netmessage.Request(ctx, slow, Login{User: "slow"}); err != nil {
		t.Fatal(err)
	}
	waitOnline(t, "slow", []string{"b"}, a)

	// 240 KiB, far more than the session's buffers hold: the rest waits
	// in its backlog. Then a message over its packet limit, then more.
	const before, after = 60, 20
	small := strings.Repeat("x", 4<<10)
	for i := range before {
		if err := a.node.Send(ctx, "slow", Chat{Seq: i, Text: small}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.node.Send(ctx, "slow", Chat{Seq: -1, Text: strings.Repeat("x", 20<<10)}); err != nil {
		t.Fatal(err)
	}
	for i := before; i < before+after; i++ {
		if err := a.node.Send(ctx, "slow", Chat{Seq: i, Text: small}); err != nil {
			t.Fatal(err)
		}
	}
	// What NATS delivered to b is queued before b answers a ping.
	if err := a.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := b.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	close(release)

	for i := range before + after {
		select {
		case m := <-got:
			if m.Seq != i {
				t.Fatalf("got message %d, want %d", m.Seq, i)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("got %d messages, want %d", i, before+after)
		}
	}
	select {
	case err := <-b.errs:
		var pe *cluster.PacketError
		if !errors.Is(err, base.ErrPacketTooLarge) || !errors.As(err, &pe) {
			t.Fatalf("event: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("no event for the message dropped")
	}
}

// A packet over the NATS server's max_payload is refused as too large:
// NATS is available, and retrying will not help.
func TestOverNATSMaxPayload(t *testing.T) {
	ns := startNATSWith(t, &server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true, MaxPayload: 4096})
	a, b := startNode(t, ns.ClientURL(), "a"), startNode(t, ns.ClientURL(), "b")
	connectClient(t, b, "bob")
	waitOnline(t, "bob", []string{"b"}, a)
	ctx := context.Background()
	big := strings.Repeat("x", 8<<10)
	err := a.node.Send(ctx, "bob", Chat{Text: big})
	if !errors.Is(err, cluster.ErrTooLarge) || errors.Is(err, cluster.ErrUnavailable) {
		t.Errorf("send: %v", err)
	}
	_, err = cluster.Request(ctx, a.node, "bob", Who{Q: big})
	if !errors.Is(err, cluster.ErrTooLarge) || errors.Is(err, cluster.ErrUnavailable) {
		t.Errorf("request: %v", err)
	}
}

// A response over the NATS server's max_payload fails the request at once
// as too large: the serving node cannot send it, and the caller does not
// wait for its request timeout to learn that.
func TestResponseOverNATSMaxPayload(t *testing.T) {
	const rt = 3 * time.Second
	ns := startNATSWith(t, &server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true, MaxPayload: 4096})
	a := startNode(t, ns.ClientURL(), "a", cluster.WithRequestTimeout(rt))
	b := startNode(t, ns.ClientURL(), "b")
	connectClient(t, b, "bob")
	waitOnline(t, "bob", []string{"b"}, a)
	start := time.Now()
	_, err := cluster.Request(context.Background(), a.node, "bob", Who{Pad: 8 << 10})
	if !errors.Is(err, cluster.ErrTooLarge) {
		t.Fatalf("request with a response over max_payload: %v", err)
	}
	if d := time.Since(start); d >= rt {
		t.Fatalf("failing took %v, the request timeout", d)
	}
}
