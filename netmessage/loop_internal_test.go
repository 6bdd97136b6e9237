package netmessage

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// loopSession returns the server's end of a loopback connection between a
// plain base server and client, for calling a Mux's Serve methods by hand;
// its error events go to onError. Both ends close when tb ends.
func loopSession(tb testing.TB, onError func(error)) *base.Session {
	tb.Helper()
	opened := make(chan *base.Session, 1)
	srv := base.NewServer(native.New,
		base.OnSessionOpened(func(s *base.Session) { opened <- s }),
		base.OnError(func(_ *base.Session, err error) { onError(err) }))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { srv.Serve(ln) })
	c := base.NewClient(native.New)
	tb.Cleanup(func() {
		c.Close()
		srv.Close()
		wg.Wait()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Connect(ctx, ln.Addr().String()); err != nil {
		tb.Fatal(err)
	}
	select {
	case s := <-opened:
		return s
	case <-ctx.Done():
		tb.Fatal("no session opened")
		return nil
	}
}
