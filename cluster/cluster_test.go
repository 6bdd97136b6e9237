package cluster_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/cluster"
	"github.com/netmessage-go/netmessage/netmessage"
)

// three starts three servers on one NATS server.
func three(t *testing.T, opts ...cluster.Option) (a, b, c *tnode) {
	url := startNATS(t, 0).ClientURL()
	return startNode(t, url, "a", opts...), startNode(t, url, "b", opts...), startNode(t, url, "c", opts...)
}

func TestSendToKeyAcrossServers(t *testing.T) {
	a, b, c := three(t)
	alice := connectClient(t, a, "alice")
	bob1 := connectClient(t, b, "bob")
	bob2 := connectClient(t, c, "bob")
	bob3 := connectClient(t, a, "bob")
	waitOnline(t, "bob", []string{"a", "b", "c"}, a, b, c)

	ctx := context.Background()
	if err := b.node.Send(ctx, "bob", Chat{From: "b", Text: "hi bob"}); err != nil {
		t.Fatal(err)
	}
	want := []Chat{{From: "b", Text: "hi bob"}}
	for _, bob := range []*tclient{bob1, bob2, bob3} {
		if diff := cmp.Diff(want, bob.expect(t, 1)); diff != "" {
			t.Errorf("bob on a server: (-want +got)\n%s", diff)
		}
	}
	alice.none(t)
	// A key nobody has is not an error for a message.
	if err := a.node.Send(ctx, "nobody", Chat{}); err != nil {
		t.Fatal(err)
	}
	if err := a.node.Send(ctx, "", Chat{}); !errors.Is(err, cluster.ErrBadName) {
		t.Fatalf("empty key: %v", err)
	}
}

func TestGroupAndBroadcast(t *testing.T) {
	a, b, c := three(t)
	m1 := connectClient(t, a, "m1", "room")
	m2 := connectClient(t, b, "m2", "room", "other")
	m3 := connectClient(t, c, "m3", "room")
	out := connectClient(t, c, "out", "other")
	waitOnline(t, "m3", []string{"c"}, a, b, c)
	waitOnline(t, "out", []string{"c"}, a, b, c)

	ctx := context.Background()
	if err := a.node.SendGroup(ctx, "room", Chat{From: "a", Text: "to room"}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*tclient{m1, m2, m3} {
		m.expect(t, 1)
	}
	out.none(t)

	if err := b.node.Broadcast(ctx, Chat{From: "b", Text: "all"}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*tclient{m1, m2, m3, out} {
		if got := m.expect(t, 1); got[0].Text != "all" {
			t.Fatalf("%s got %+v", m.user, got)
		}
	}

	// Leaving: m2 leaves room on b.
	s := b.srv.Sessions()[0]
	b.node.Leave(s, "room")
	if err := c.node.SendGroup(ctx, "room", Chat{Text: "after leave"}); err != nil {
		t.Fatal(err)
	}
	m1.expect(t, 1)
	m3.expect(t, 1)
	m2.none(t)
}

func TestRequestRemoteSession(t *testing.T) {
	// A timeout long enough for the calls that must succeed on a busy
	// machine; the call that must time out sleeps past it.
	const rt = time.Second
	a, b, _ := three(t, cluster.WithRequestTimeout(rt))
	connectClient(t, b, "bob")
	connectClient(t, a, "alice")
	waitOnline(t, "bob", []string{"b"}, a)
	ctx := context.Background()

	resp, err := cluster.Request(ctx, a.node, "bob", Who{Q: "where"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(WhoResp{User: "bob", Q: "where"}, resp); diff != "" {
		t.Fatalf("(-want +got)\n%s", diff)
	}
	// A local session answers too.
	if resp, err := cluster.Request(ctx, a.node, "alice", Who{Q: "here"}); err != nil || resp.User != "alice" {
		t.Fatalf("local: %+v, %v", resp, err)
	}

	start := time.Now()
	_, err = cluster.Request(ctx, a.node, "nobody", Who{})
	if !errors.Is(err, cluster.ErrNoKey) {
		t.Fatalf("no key: %v", err)
	}
	if d := time.Since(start); d >= rt {
		t.Fatalf("no key took %v, as long as the request timeout", d)
	}

	_, err = cluster.Request(ctx, a.node, "bob", Who{Fail: true})
	var re *netmessage.RemoteError
	if !errors.As(err, &re) || re.Code != netmessage.CodeHandler || re.Message != "refused" {
		t.Fatalf("remote error: %v", err)
	}

	start = time.Now()
	_, err = cluster.Request(ctx, a.node, "bob", Who{Sleep: 3 * rt})
	if !errors.Is(err, base.ErrRequestTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: %v", err)
	}
	if d := time.Since(start); d < rt-50*time.Millisecond || d > 2*rt {
		t.Fatalf("timeout after %v, want %v", d, rt)
	}

	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = cluster.Request(cctx, a.node, "bob", Who{Sleep: 3 * rt})
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, base.ErrRequestTimeout) {
		t.Fatalf("ctx deadline: %v", err)
	}
}

func TestSessionCloseDropsBindings(t *testing.T) {
	a, b, _ := three(t)
	bob := connectClient(t, b, "bob", "room")
	waitOnline(t, "bob", []string{"b"}, a, b)
	bob.c.Close()
	waitOnline(t, "bob", nil, a, b)
	if _, err := cluster.Request(context.Background(), a.node, "bob", Who{}); !errors.Is(err, cluster.ErrNoKey) {
		t.Fatalf("after close: %v", err)
	}
	for _, n := range a.node.Nodes() {
		if len(n.Keys) != 0 {
			t.Fatalf("keys left: %+v", a.node.Nodes())
		}
	}
}

func TestPresenceServerKilled(t *testing.T) {
	a, b, c := three(t)
	connectClient(t, a, "alice")
	connectClient(t, c, "carol")
	waitOnline(t, "carol", []string{"c"}, a, b)
	waitOnline(t, "alice", []string{"a"}, b, c)
	want := []cluster.NodeInfo{{Name: "a", Keys: []string{"alice"}}, {Name: "b"}, {Name: "c", Keys: []string{"carol"}}}
	if diff := cmp.Diff(want, b.node.Nodes()); diff != "" {
		t.Fatalf("(-want +got)\n%s", diff)
	}

	killed := time.Now()
	c.kill()
	waitFor(t, "c gone", func() bool { return len(a.node.Nodes()) == 2 && len(b.node.Nodes()) == 2 })
	gone := time.Since(killed)
	// Two heartbeat intervals since its last heartbeat, checked every
	// quarter interval: at most three and a quarter after its death (and
	// room for a busy machine).
	if gone > 13*testHeartbeat/4+250*time.Millisecond {
		t.Fatalf("c left presence after %v", gone)
	}
	t.Logf("killed server left presence after %v (heartbeat %v)", gone, testHeartbeat)
	if _, err := cluster.Request(context.Background(), a.node, "carol", Who{}); !errors.Is(err, cluster.ErrNoKey) {
		t.Fatalf("to a killed server: %v", err)
	}
	// A closed node leaves at once, and knows no other server any more.
	b.stop()
	waitFor(t, "b gone", func() bool { return len(a.node.Nodes()) == 1 })
	if got := b.node.Nodes(); len(got) != 1 || got[0].Name != "b" {
		t.Errorf("a closed node's Nodes: %v, want itself alone", got)
	}
	if got := b.node.Lookup("alice"); len(got) != 0 {
		t.Errorf("a closed node's Lookup: %v, want none", got)
	}
}

// TestPresenceMixedHeartbeats: a node whose heartbeat interval is eight
// times another's stays listed on that other for as long as it sends
// them: each node expires a peer after two of the peer's own intervals,
// which its heartbeats announce, not two of its own.
func TestPresenceMixedHeartbeats(t *testing.T) {
	ns := startNATS(t, 0)
	fast := startNode(t, ns.ClientURL(), "fast", cluster.WithHeartbeat(testHeartbeat/2))
	slow := startNode(t, ns.ClientURL(), "slow", cluster.WithHeartbeat(4*testHeartbeat))
	listed := func(on *tnode, name string) bool {
		for _, ni := range on.node.Nodes() {
			if ni.Name == name {
				return true
			}
		}
		return false
	}
	waitFor(t, "both listed", func() bool { return listed(fast, "slow") && listed(slow, "fast") })
	// Three of the slow node's intervals: with the fast node's own
	// interval as the measure, it would drop the slow one a tenth of a
	// second after each heartbeat.
	for end := time.Now().Add(12 * testHeartbeat); time.Now().Before(end); time.Sleep(testHeartbeat / 10) {
		if !listed(fast, "slow") {
			t.Fatal("the slow node left the fast node's presence while it was sending heartbeats")
		}
	}
	killed := time.Now()
	slow.kill()
	waitFor(t, "slow gone", func() bool { return !listed(fast, "slow") })
	// Two of its intervals since its last heartbeat, checked every quarter
	// of the fast node's: at most three of them after its death, with
	// room for a busy machine.
	if gone := time.Since(killed); gone > 12*testHeartbeat+250*time.Millisecond {
		t.Fatalf("the killed slow node left presence after %v", gone)
	}
}

func TestRequestHandledOnce(t *testing.T) {
	a, b, c := three(t)
	bob1 := connectClient(t, b, "bob")
	bob2 := connectClient(t, c, "bob")
	waitOnline(t, "bob", []string{"b", "c"}, a)
	const n = 40
	for range n {
		if _, err := cluster.Request(context.Background(), a.node, "bob", Who{}); err != nil {
			t.Fatal(err)
		}
	}
	h1, h2 := bob1.handled.Load(), bob2.handled.Load()
	if h1+h2 != n {
		t.Fatalf("%d requests handled %d + %d times", n, h1, h2)
	}
	t.Logf("NATS's queue group split %d requests %d/%d", n, h1, h2)
}

// A request timeout over the day that a node gives a session of its own
// to answer another server's request: the request still reaches the
// session, which is given that day.
func TestRequestTimeoutOverADay(t *testing.T) {
	a, b, _ := three(t, cluster.WithRequestTimeout(48*time.Hour))
	connectClient(t, b, "bob")
	waitOnline(t, "bob", []string{"b"}, a)
	resp, err := cluster.Request(context.Background(), a.node, "bob", Who{Q: "q"})
	if err != nil || resp.User != "bob" {
		t.Fatalf("%+v %v", resp, err)
	}
	select {
	case err := <-b.errs:
		t.Fatalf("event on the serving node: %v", err)
	default:
	}
}

// A session that closes while it has a request to answer ends the request
// with ErrNoKey, whether it is on the caller's server or another.
func TestRequestSessionClosesMidRequest(t *testing.T) {
	a, b, _ := three(t)
	for _, tn := range []*tnode{a, b} {
		user := "on-" + tn.name
		c := connectClient(t, tn, user)
		waitOnline(t, user, []string{tn.name}, a)
		done := make(chan error, 1)
		go func() {
			_, err := cluster.Request(context.Background(), a.node, user, Who{Sleep: 5 * time.Second})
			done <- err
		}()
		waitFor(t, "the request handled", func() bool { return c.handled.Load() == 1 })
		c.c.Close()
		select {
		case err := <-done:
			if !errors.Is(err, cluster.ErrNoKey) {
				t.Errorf("session on %s closed mid-request: %v", tn.name, err)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("session on %s closed mid-request: no answer", tn.name)
		}
	}
}

// A session whose server gives requests less time than the caller has
// left ends the request with base.ErrRequestTimeout, not with the
// caller's context error: the caller's deadline has not passed.
func TestRequestSessionTimeoutBeforeCallerDeadline(t *testing.T) {
	url := startNATS(t, 0).ClientURL()
	sopts := []any{netmessage.WithTransport(base.WithResponseTimeout(200 * time.Millisecond))}
	a := startNodeWith(t, connectNATS(t, url), "a", sopts, cluster.WithRequestTimeout(5*time.Second))
	b := startNodeWith(t, connectNATS(t, url), "b", sopts)
	connectClient(t, a, "alice")
	connectClient(t, b, "bob")
	waitOnline(t, "bob", []string{"b"}, a)
	for _, user := range []string{"alice", "bob"} {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, err := cluster.Request(ctx, a.node, user, Who{Sleep: 4 * time.Second})
		ctxErr := ctx.Err()
		cancel()
		if ctxErr != nil {
			t.Fatalf("%s: the caller's deadline passed: %v", user, err)
		}
		if !errors.Is(err, base.ErrRequestTimeout) {
			t.Errorf("%s: %v, want the request timeout", user, err)
		}
	}
}
