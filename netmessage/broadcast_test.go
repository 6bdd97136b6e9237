package netmessage_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
)

type Blob struct {
	Seq  int
	Data []byte
}

// TestBroadcastNotHeldUpBySlowPeer has a peer that never reads, with its
// write buffer full, connected before a healthy client: a Broadcast
// reaches the healthy client at once, while it still waits for room on
// the stalled session, and names that session when its context ends.
func TestBroadcastNotHeldUpBySlowPeer(t *testing.T) {
	opened := make(chan *base.Session, 2)
	_, srv := typedServer(t,
		base.OnSessionOpened(func(s *base.Session) { opened <- s }),
		netmessage.WithTransport(base.WithMaxWriteBuffer(64<<10)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	var wg sync.WaitGroup
	wg.Go(func() { srv.Serve(ln) })
	defer wg.Wait()
	defer srv.Close()

	// The stalled peer: the native preface, then heartbeats so it looks
	// alive, and no reads at all.
	raw, err := net.Dial("tcp", ln.Addr().String())
	must(t, err)
	defer raw.Close()
	_, err = raw.Write([]byte("NMGO\x02"))
	must(t, err)
	stopBeats := make(chan struct{})
	var beats sync.WaitGroup
	beats.Go(func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopBeats:
				return
			case <-tick.C:
				if _, err := raw.Write([]byte{0}); err != nil {
					return
				}
			}
		}
	})
	defer beats.Wait()
	defer close(stopBeats)
	stalled := recv(t, opened, "the stalled peer's session")

	got := make(chan int, 16)
	cmux, client := typedClient(t)
	defer client.Close()
	must(t, netmessage.HandleMessage(cmux, func(_ context.Context, _ *base.Session, b Blob) { got <- b.Seq }))
	must(t, client.Connect(ctx(t), ln.Addr().String()))
	healthy := recv(t, opened, "the healthy session")

	// Fill the stalled session: its kernel buffers, then its write buffer,
	// until a send has waited 100 ms for room in vain.
	big := Blob{Data: make([]byte, 256<<10)}
	for i := 0; ; i++ {
		if i == 400 {
			t.Fatal("the stalled session's buffers never filled")
		}
		c, cancel := context.WithTimeout(ctx(t), 100*time.Millisecond)
		err := netmessage.Send(c, stalled, big)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		must(t, err)
	}

	bctx, cancel := context.WithTimeout(ctx(t), 3*time.Second)
	defer cancel()
	result := make(chan error, 1)
	go func() { result <- netmessage.Broadcast(bctx, srv, Blob{Seq: 7}) }()
	if seq := recv(t, got, "the broadcast at the healthy client"); seq != 7 {
		t.Fatalf("healthy client got %d", seq)
	}
	select {
	case err := <-result:
		t.Fatalf("Broadcast returned %v before the stalled session had room", err)
	default:
	}
	err = recv(t, result, "Broadcast's result")
	// It names the stalled session, and that one only.
	if !errors.Is(err, context.DeadlineExceeded) ||
		!strings.Contains(err.Error(), fmt.Sprintf("session %d:", stalled.ID())) ||
		strings.Contains(err.Error(), fmt.Sprintf("session %d:", healthy.ID())) {
		t.Fatalf("Broadcast: %v, want the deadline of session %d (the stalled one), not of session %d", err, stalled.ID(), healthy.ID())
	}
}
