package base_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// TestInflightWaitEndsAtReceiveTimeout: a session that waits for room in
// the server's budget for a partly received packet is closed with
// ReasonConnectionLost and ErrInflightLimit exactly at the receive
// timeout, though its read deadline (a sixteenth later) has not passed,
// while the session holding the budget, kept alive by a byte now and
// then, stays open.
func TestInflightWaitEndsAtReceiveTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const rt = 1600 * time.Millisecond
		rec := newRecorder()
		srv := base.NewServer(native.New, rec.server(
			base.OnRequest(func(context.Context, *base.Session, []byte) []byte { return []byte("ok") }),
			base.WithHeartbeat(rt/4, rt),
			base.WithMaxInflightBytes(256<<10))...)
		ln := newMemListener()
		serveMem(t, srv, ln)
		dial := func() *rawPeer {
			conn, err := ln.dial(context.Background(), "", "")
			if err != nil {
				t.Fatal(err)
			}
			return newRawPeer(t, conn)
		}

		// The holder keeps its partial packet alive with a byte now and then.
		holder := dial()
		holder.send(preface, partial(t, 1<<20, 200<<10))
		held := receive(t, rec.opened, "holder's session")
		stop := make(chan struct{})
		trickled := make(chan struct{})
		go func() {
			defer close(trickled)
			tick := time.NewTicker(rt / 4)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := holder.conn.Write([]byte("x")); err != nil {
						return
					}
				}
			}
		}()
		defer func() { close(stop); <-trickled }()
		synctest.Wait()
		if used, _ := base.InflightState(srv); used <= 64<<10 {
			t.Fatalf("the holder's buffer took %d bytes from the budget, want more than 64 KiB", used)
		}

		start := time.Now()
		sender := dial()
		go func() { _, _ = sender.conn.Write(append(append([]byte{}, preface...), partial(t, 1<<20, 300<<10)...)) }()
		s := receive(t, rec.opened, "sender's session")
		<-s.Done()
		exactly(t, "the wait for room", time.Since(start), rt, "the receive timeout")
		var ce *base.CloseError
		if !errors.As(s.Err(), &ce) || ce.Reason != base.ReasonConnectionLost || !errors.Is(ce, base.ErrInflightLimit) {
			t.Fatalf("sender's session closed with %v, want connection lost and ErrInflightLimit", s.Err())
		}
		if err := held.Err(); err != nil {
			t.Fatalf("the holder's session closed: %v", err)
		}
	})
}
