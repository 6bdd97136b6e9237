package tests

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// TestBroadcast broadcasts to 5 clients: each receives the message exactly
// once. A second broadcast follows as a marker; messages arrive in order, so
// once the marker is in, any duplicate of the first would have been too.
func TestBroadcast(t *testing.T) {
	const clients = 5
	eachProfile(t, func(t *testing.T, sc profile) {
		s := startServer(t, sc.wire(), nil)
		inboxes := make([]chan News, clients)
		all := make([]*client, clients)
		for i := range clients {
			inbox := make(chan News, 16)
			inboxes[i] = inbox
			all[i] = s.connect(t, sc.wire(), func(cl *netmessage.Mux) {
				testutil.Must(t, netmessage.HandleMessage(cl, func(_ context.Context, _ *base.Session, n News) { inbox <- n }))
			})
		}
		if n := len(s.srv.Sessions()); n != clients {
			t.Fatalf("server has %d sessions, want %d", n, clients)
		}

		news := News{Seq: 1, Headline: "Ünïcödé headline 📰"}
		testutil.Must(t, netmessage.Broadcast(testutil.Ctx(t), s.srv, news))
		testutil.Must(t, netmessage.Broadcast(testutil.Ctx(t), s.srv, &News{Seq: 2, Headline: "marker"}))
		for i, inbox := range inboxes {
			what := fmt.Sprintf("client %d", i)
			diff(t, what+" first", news, testutil.Recv(t, inbox, what+": broadcast"))
			if m := testutil.Recv(t, inbox, what+": marker"); m.Seq != 2 {
				t.Errorf("%s: got %+v after the broadcast, want the marker", what, m)
			}
			noErrors(t, what, all[i].ev)
		}
		// Nothing more comes, to any client.
		time.Sleep(testutil.Quiet)
		for i, inbox := range inboxes {
			select {
			case m := <-inbox:
				t.Errorf("client %d: unexpected %+v", i, m)
			default:
			}
		}
		noErrors(t, "server", s.ev)
	})
}
