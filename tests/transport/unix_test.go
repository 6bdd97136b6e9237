package transport

import (
	"context"
	"net"
	"path/filepath"
	"testing"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// TestUnixSocket runs a server on a Unix socket and a client that dials it
// with WithDialer: requests and messages go both ways, and a graceful
// disconnect (a half-close, which Unix sockets support) is graceful on both
// ends.
func TestUnixSocket(t *testing.T) {
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "nm.sock"))
	testutil.Must(t, err)
	s := startServer(t, ln)
	dial := func(ctx context.Context, _, addr string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", addr)
	}
	clients := connectMany(t, s, 5, base.WithDialer(dial))
	l := startLoad(t, clients, 20)
	l.wg.Wait()
	if n := l.finish(t); n != 5*20 {
		t.Fatalf("%d rounds, want %d", n, 5*20)
	}
	c := clients[0]
	testutil.Must(t, c.peer.SendMessage(testutil.Ctx(t), []byte("over unix")))
	if got := testutil.Recv(t, c.msgs, "message"); got != "over unix" {
		t.Errorf("got %q", got)
	}
	testutil.Must(t, c.c.Disconnect(testutil.Ctx(t)))
	if r := testutil.Recv(t, c.closed, "client closed"); r != base.ReasonGraceful {
		t.Errorf("client closed with %v, want graceful", r)
	}
	if ev := testutil.Recv(t, s.closed, "session closed"); ev.s != c.peer || ev.reason != base.ReasonGraceful {
		t.Errorf("session %d closed with %v, want session %d graceful", ev.s.ID(), ev.reason, c.peer.ID())
	}
}
