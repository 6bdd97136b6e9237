package tests

import (
	"testing"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// TestRequestsBothWays sends typed requests client to server and server
// to client, as values and pointers, and checks the typed responses and
// the peer each handler was given.
func TestRequestsBothWays(t *testing.T) {
	eachProfile(t, func(t *testing.T, sc profile) {
		srvPeers, cliPeers := make(chan *base.Session, 4), make(chan *base.Session, 4)
		s, c := newPair(t, sc,
			func(srv *netmessage.Mux) { testutil.Must(t, handleEcho(srv, "server", srvPeers)) },
			func(cl *netmessage.Mux) { testutil.Must(t, handleEcho(cl, "client", cliPeers)) })

		for i := range 2 {
			want := newRich(10 + i)
			resp, err := netmessage.Request(testutil.Ctx(t), c.c, EchoRequest{Payload: want, Seq: i})
			testutil.Must(t, err)
			diff(t, "client's request", EchoResponse{Payload: want, Seq: i, By: "server"}, resp)
			if p := testutil.Recv(t, srvPeers, "server handler"); p != c.sess {
				t.Errorf("server handler got peer %p, want the opened session %p", p, c.sess)
			}

			resp, err = netmessage.Request(testutil.Ctx(t), c.sess, &EchoRequest{Payload: want, Seq: -i})
			testutil.Must(t, err)
			diff(t, "server's request", EchoResponse{Payload: want, Seq: -i, By: "client"}, resp)
			if p := testutil.Recv(t, cliPeers, "client handler"); p != c.c.Session() {
				t.Errorf("client handler got peer %p, want the client %p", p, c.c)
			}
		}
		noErrors(t, "server", s.ev)
		noErrors(t, "client", c.ev)
	})
}

// TestNestedRequests has each handler ask the other end something before it
// answers, six levels deep, starting from either end: request handlers run
// concurrently, so an answer can arrive while its own handler waits.
func TestNestedRequests(t *testing.T) {
	eachProfile(t, func(t *testing.T, sc profile) {
		s, c := newPair(t, sc,
			func(srv *netmessage.Mux) { testutil.Must(t, handleChain(srv, "server")) },
			func(cl *netmessage.Mux) { testutil.Must(t, handleChain(cl, "client")) })

		res, err := netmessage.Request(testutil.Ctx(t), c.c, Chain{Depth: 5})
		testutil.Must(t, err)
		diff(t, "chain from the client", ChainResult{Trail: []string{
			"server@5", "client@4", "server@3", "client@2", "server@1", "client@0",
		}}, res)

		res, err = netmessage.Request(testutil.Ctx(t), c.sess, Chain{Depth: 5, Trail: []string{"start"}})
		testutil.Must(t, err)
		diff(t, "chain from the server", ChainResult{Trail: []string{
			"start", "client@5", "server@4", "client@3", "server@2", "client@1", "server@0",
		}}, res)
		noErrors(t, "server", s.ev)
		noErrors(t, "client", c.ev)
	})
}
