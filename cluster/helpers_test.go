package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/cluster"
	"github.com/netmessage-go/netmessage/netmessage"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The packets of the tests.
type (
	Chat struct {
		From string
		Seq  int
		Text string
	}
	Login struct {
		netmessage.Returns[LoginOK]
		User   string
		Groups []string
	}
	LoginOK struct{ Server string }
	Who     struct {
		netmessage.Returns[WhoResp]
		Q     string
		Sleep time.Duration
		Fail  bool
		Pad   int // bytes added to the answer's Q
	}
	WhoResp struct {
		User string
		Q    string
	}
)

const testHeartbeat = 100 * time.Millisecond

// startNATS starts a NATS server on a free loopback port (or port).
func startNATS(t testing.TB, port int) *server.Server {
	t.Helper()
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return startNATSWith(t, &server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
}

// startNATSWith starts a NATS server with options o, and stops it when
// the test ends.
func startNATSWith(t testing.TB, o *server.Options) *server.Server {
	t.Helper()
	ns, err := server.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(func() { stopNATS(ns) })
	if !ns.ReadyForConnections(5 * time.Second) {
		t.Fatal("NATS not ready")
	}
	return ns
}

func stopNATS(ns *server.Server) {
	ns.Shutdown()
	ns.WaitForShutdown()
}

// startNATSCluster starts n NATS servers routed to each other on loopback.
func startNATSCluster(t testing.TB, n int) []*server.Server {
	t.Helper()
	var list []*server.Server
	var seed string
	for i := range n {
		o := &server.Options{
			ServerName: fmt.Sprintf("nats-%d", i),
			Host:       "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "test", Host: "127.0.0.1", Port: server.RANDOM_PORT},
		}
		if seed != "" {
			o.Routes = server.RoutesFromStr(seed)
		}
		ns := startNATSWith(t, o)
		if seed == "" {
			seed = "nats://" + ns.ClusterAddr().String()
		}
		list = append(list, ns)
	}
	waitFor(t, "routes", func() bool {
		for _, ns := range list {
			if ns.NumRoutes() < n-1 {
				return false
			}
		}
		return true
	})
	return list
}

// connectNATS connects to url, reconnecting quickly and forever.
func connectNATS(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond),
		nats.ReconnectJitter(0, 0), nats.NoCallbacksAfterClientClose())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// typedServer returns a Mux made of the netmessage options among opts and
// a server for it made with the base options among them.
func typedServer(t testing.TB, opts ...any) (*netmessage.Mux, *base.Server) {
	t.Helper()
	m, sopts := splitTyped[base.ServerOption](t, "server", opts)
	return m, netmessage.NewServer(m, sopts...)
}

// typedClient is typedServer for a client.
func typedClient(t testing.TB, opts ...any) (*netmessage.Mux, *base.Client) {
	t.Helper()
	m, copts := splitTyped[base.ClientOption](t, "client", opts)
	return m, netmessage.NewClient(m, copts...)
}

// splitTyped returns a Mux made of the netmessage options among opts and the
// options of type O among the rest; any other option fails the test.
func splitTyped[O any](t testing.TB, end string, opts []any) (*netmessage.Mux, []O) {
	t.Helper()
	var (
		mopts []netmessage.Option
		eopts []O
	)
	for _, o := range opts {
		switch o := o.(type) {
		case netmessage.Option:
			mopts = append(mopts, o)
		case O:
			eopts = append(eopts, o)
		default:
			t.Fatalf("%T is not a %s option", o, end)
		}
	}
	m, err := netmessage.NewMux(mopts...)
	if err != nil {
		t.Fatal(err)
	}
	return m, eopts
}

// tnode is one netmessage server joined to the cluster.
type tnode struct {
	name   string
	srv    *base.Server
	node   *cluster.Node
	nc     *nats.Conn
	addr   string
	served chan error
	errs   chan error
	once   sync.Once
}

// startNode starts a netmessage server on loopback, joined through a new
// connection to url. Its sessions bind themselves with a Login request.
func startNode(t testing.TB, url, name string, opts ...cluster.Option) *tnode {
	t.Helper()
	return startNodeWith(t, connectNATS(t, url), name, nil, opts...)
}

func startNodeWith(t testing.TB, nc *nats.Conn, name string, sopts []any, opts ...cluster.Option) *tnode {
	t.Helper()
	return startNodeOn(t, listen(t), nc, name, sopts, opts...)
}

// listen returns a listener on a free loopback port.
func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func startNodeOn(t testing.TB, ln net.Listener, nc *nats.Conn, name string, sopts []any, opts ...cluster.Option) *tnode {
	t.Helper()
	tn := &tnode{name: name, nc: nc, served: make(chan error, 1), errs: make(chan error, 1000)}
	smux, srv := typedServer(t, sopts...)
	tn.srv = srv
	netmessage.HandleRequest(smux, func(ctx context.Context, s *base.Session, l Login) (LoginOK, error) {
		if err := tn.node.Bind(s, l.User); err != nil {
			return LoginOK{}, err
		}
		return LoginOK{Server: name}, tn.node.Join(s, l.Groups...)
	})
	opts = append([]cluster.Option{
		cluster.WithName(name), cluster.WithHeartbeat(testHeartbeat),
		cluster.OnError(func(err error) {
			select {
			case tn.errs <- err:
			default:
			}
		}),
	}, opts...)
	var err error
	if tn.node, err = cluster.New(srv, nc, opts...); err != nil {
		t.Fatal(err)
	}
	tn.addr = ln.Addr().String()
	go func() { tn.served <- srv.Serve(ln) }()
	t.Cleanup(tn.stop)
	return tn
}

// stop closes the node, then the server.
func (tn *tnode) stop() {
	tn.once.Do(func() {
		tn.node.Close()
		tn.srv.Close()
		<-tn.served
	})
}

// kill stops the server without a goodbye: its NATS connection drops
// first, as when the process dies.
func (tn *tnode) kill() {
	tn.nc.Close()
	tn.stop()
}

// tclient is a client logged in as user.
type tclient struct {
	user    string
	c       *base.Client
	got     chan Chat
	handled atomic.Int64 // requests answered
}

func connectClient(t testing.TB, tn *tnode, user string, groups ...string) *tclient {
	t.Helper()
	tc := &tclient{user: user, got: make(chan Chat, 10000)}
	cmux, c := typedClient(t)
	tc.c = c
	netmessage.HandleMessage(cmux, func(ctx context.Context, _ *base.Session, m Chat) { tc.got <- m })
	netmessage.HandleRequest(cmux, func(ctx context.Context, _ *base.Session, w Who) (WhoResp, error) {
		tc.handled.Add(1)
		if w.Fail {
			return WhoResp{}, errors.New("refused")
		}
		if w.Sleep > 0 {
			select {
			case <-time.After(w.Sleep):
			case <-ctx.Done():
				return WhoResp{}, ctx.Err()
			}
		}
		return WhoResp{User: user, Q: w.Q + strings.Repeat("x", w.Pad)}, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Connect(ctx, tn.addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := netmessage.Request(ctx, c, Login{User: user, Groups: groups}); err != nil {
		t.Fatal(err)
	}
	// The node subscribed to the user's key and groups on its NATS
	// connection. Once the NATS server has answered a ping on it, it has
	// those subscriptions: what others publish to them from then on
	// reaches them (seeing the key online says so of the key alone).
	if err := tn.nc.FlushWithContext(ctx); err != nil && tn.nc.IsConnected() {
		t.Fatal(err)
	}
	return tc
}

// expect waits for n messages and then checks that no more arrive for a
// short while.
func (tc *tclient) expect(t testing.TB, n int) []Chat {
	t.Helper()
	var out []Chat
	timeout := time.After(5 * time.Second)
	for len(out) < n {
		select {
		case m := <-tc.got:
			out = append(out, m)
		case <-timeout:
			t.Fatalf("%s: got %d messages, want %d: %s", tc.user, len(out), n, summary(out))
		}
	}
	tc.none(t)
	return out
}

// summary names messages by sender and sequence number.
func summary(ms []Chat) string {
	var b strings.Builder
	for i, m := range ms {
		if i == 20 {
			fmt.Fprintf(&b, " ... (%d more)", len(ms)-i)
			break
		}
		fmt.Fprintf(&b, " %s/%d", m.From, m.Seq)
	}
	return b.String()
}

// none checks that no message arrives for a short while.
func (tc *tclient) none(t testing.TB) {
	t.Helper()
	select {
	case m := <-tc.got:
		t.Fatalf("%s: unexpected message %s", tc.user, summary([]Chat{m}))
	case <-time.After(50 * time.Millisecond):
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitOnline waits until every node in nodes sees key on the servers named.
func waitOnline(t testing.TB, key string, want []string, nodes ...*tnode) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%s on %v", key, want), func() bool {
		for _, tn := range nodes {
			if fmt.Sprint(tn.node.Lookup(key)) != fmt.Sprint(want) {
				return false
			}
		}
		return true
	})
}

var _ = base.ErrClosed
