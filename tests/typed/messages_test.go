package tests

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// received is a message with the peer its handler was given.
type received[M any] struct {
	peer *base.Session
	msg  M
}

func collect[M any](t *testing.T, r *netmessage.Mux, ch chan received[M]) {
	t.Helper()
	testutil.Must(t, netmessage.HandleMessage(r, func(_ context.Context, p *base.Session, m M) { ch <- received[M]{p, m} }))
}

// TestMessagesBothWays sends a rich message each way, as a value and as a
// pointer, and compares what arrives field by field.
func TestMessagesBothWays(t *testing.T) {
	eachProfile(t, func(t *testing.T, sc profile) {
		atServer, atClient := make(chan received[Rich], 4), make(chan received[Rich], 4)
		s, c := newPair(t, sc,
			func(srv *netmessage.Mux) { collect(t, srv, atServer) },
			func(cl *netmessage.Mux) { collect(t, cl, atClient) })

		for i, v := range []any{newRich(1), ptr(newRich(2))} {
			want := newRich(i + 1)
			testutil.Must(t, netmessage.Send(testutil.Ctx(t), c.c, v))
			got := testutil.Recv(t, atServer, "message at the server")
			diff(t, "client to server", want, got.msg)
			if got.peer != c.sess {
				t.Errorf("server handler got peer %p, want the opened session %p", got.peer, c.sess)
			}
			checkZone(t, sc, got.msg.Created)

			testutil.Must(t, netmessage.Send(testutil.Ctx(t), c.sess, v))
			got = testutil.Recv(t, atClient, "message at the client")
			diff(t, "server to client", want, got.msg)
			if got.peer != c.c.Session() {
				t.Errorf("client handler got peer %p, want the client %p", got.peer, c.c)
			}
			checkZone(t, sc, got.msg.Created)
		}
		noErrors(t, "server", s.ev)
		noErrors(t, "client", c.ev)
	})
}

// TestMapsRoundTripOrFailCleanly sends maps and binary bytes each way where
// the format carries them; XML, which cannot, must refuse at the sender
// with an error that names the problem, send nothing, and leave the
// connection working.
func TestMapsRoundTripOrFailCleanly(t *testing.T) {
	eachProfile(t, func(t *testing.T, sc profile) {
		atServer, atClient := make(chan received[RichMaps], 4), make(chan received[RichMaps], 4)
		s, c := newPair(t, sc,
			func(srv *netmessage.Mux) {
				collect(t, srv, atServer)
				testutil.Must(t, handleEcho(srv, "server", nil))
				testutil.Must(t, handlePing(srv))
			},
			func(cl *netmessage.Mux) {
				collect(t, cl, atClient)
				testutil.Must(t, handleEcho(cl, "client", nil))
			})
		want := newRichMaps(7)

		if !sc.maps {
			err := netmessage.Send(testutil.Ctx(t), c.c, want)
			if err == nil || !strings.Contains(err.Error(), "map") {
				t.Fatalf("XML Send of a map: got %v, want an error about maps", err)
			}
			_, err = netmessage.Request(testutil.Ctx(t), c.c, MapEchoRequest{Payload: want})
			if err == nil || !strings.Contains(err.Error(), "map") {
				t.Fatalf("XML Request with a map: got %v, want an error about maps", err)
			}
			if err := netmessage.Send(testutil.Ctx(t), c.sess, &want); err == nil {
				t.Fatal("XML Send of a map from the server: no error")
			}
			testutil.None(t, atServer, "map message at the server")
			testutil.None(t, atClient, "map message at the client")
			if p, err := netmessage.Request(testutil.Ctx(t), c.c, Ping{N: 3}); err != nil || p.N != 3 {
				t.Fatalf("connection after refused sends: %+v, %v", p, err)
			}
			noErrors(t, "server", s.ev)
			return
		}

		testutil.Must(t, netmessage.Send(testutil.Ctx(t), c.c, want))
		diff(t, "client to server", want, testutil.Recv(t, atServer, "map message at the server").msg)
		testutil.Must(t, netmessage.Send(testutil.Ctx(t), c.sess, &want))
		diff(t, "server to client", want, testutil.Recv(t, atClient, "map message at the client").msg)

		resp, err := netmessage.Request(testutil.Ctx(t), c.c, MapEchoRequest{Payload: want})
		testutil.Must(t, err)
		diff(t, "client request", MapEchoResponse{Payload: want, By: "server"}, resp)
		resp, err = netmessage.Request(testutil.Ctx(t), c.sess, &MapEchoRequest{Payload: want})
		testutil.Must(t, err)
		diff(t, "server request", MapEchoResponse{Payload: want, By: "client"}, resp)
	})
}

func ptr[T any](v T) *T { return &v }

// checkZone checks the location of a time sent in UTC: UTC again, or
// time.Local for msgpack. (cmp compares times with Equal, which ignores the
// location, so this is checked apart.)
func checkZone(t *testing.T, sc profile, at time.Time) {
	t.Helper()
	want := time.UTC
	if !sc.utc {
		want = time.Local
	}
	if at.Location() != want {
		t.Errorf("time decoded in location %q, want %q", at.Location(), want)
	}
}

// TestLargeMessages sends a 1 MiB message each way, and one over the
// transport's 4 MiB packet limit, which fails at the sender with
// base.ErrPacketTooLarge and leaves the connection working.
func TestLargeMessages(t *testing.T) {
	eachProfile(t, func(t *testing.T, sc profile) {
		atServer, atClient := make(chan received[Rich], 1), make(chan received[Rich], 1)
		s, c := newPair(t, sc,
			func(srv *netmessage.Mux) { collect(t, srv, atServer); testutil.Must(t, handlePing(srv)) },
			func(cl *netmessage.Mux) { collect(t, cl, atClient) })

		want := newRich(3)
		want.Title = strings.Repeat("große Nachricht 📦 ", (1<<20)/24)
		want.Numbers = make([]int, 2000)
		for i := range want.Numbers {
			want.Numbers[i] = i * i
		}
		testutil.Must(t, netmessage.Send(testutil.Ctx(t), c.c, want))
		diff(t, "client to server", want, testutil.Recv(t, atServer, "large message at the server").msg)
		testutil.Must(t, netmessage.Send(testutil.Ctx(t), c.sess, want))
		diff(t, "server to client", want, testutil.Recv(t, atClient, "large message at the client").msg)

		huge := newRich(4)
		huge.Title = strings.Repeat("x", 5<<20)
		if err := netmessage.Send(testutil.Ctx(t), c.c, huge); !errors.Is(err, base.ErrPacketTooLarge) {
			t.Fatalf("oversized Send: %v, want base.ErrPacketTooLarge", err)
		}
		if _, err := netmessage.Request(testutil.Ctx(t), c.c, EchoRequest{Payload: huge}); !errors.Is(err, base.ErrPacketTooLarge) {
			t.Fatalf("oversized Request: %v, want base.ErrPacketTooLarge", err)
		}
		if p, err := netmessage.Request(testutil.Ctx(t), c.c, Ping{N: 1}); err != nil || p.N != 1 {
			t.Fatalf("after the refused sends: %+v, %v", p, err)
		}
		noErrors(t, "server", s.ev)
		noErrors(t, "client", c.ev)
	})
}
