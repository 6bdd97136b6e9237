package base_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// Many goroutines send at once, each numbering its own messages: every
// message arrives exactly once, and each sender's messages in its order.
func TestConcurrentSendersKeepPerSenderOrder(t *testing.T) {
	const senders, each = 8, 250
	p := newPair(t, nil, nil)
	ctx := ctxT(t)

	var wg sync.WaitGroup
	start := make(chan struct{})
	send := func(s interface {
		SendMessage(context.Context, []byte) error
	}) {
		for g := range senders {
			wg.Go(func() {
				<-start
				for i := range each {
					if err := s.SendMessage(ctx, fmt.Appendf(nil, "%d:%d", g, i)); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	send(p.client)
	send(p.srvSess)
	close(start)

	for name, rec := range map[string]*recorder{"server": p.srvRec, "client": p.cliRec} {
		next := make([]int, senders) // the number each sender's next message must have
		for range senders * each {
			m := receive(t, rec.messages, name+" message")
			var g, i int
			if _, err := fmt.Sscanf(m, "%d:%d", &g, &i); err != nil || g < 0 || g >= senders {
				t.Fatalf("%s: bad message %q", name, m)
			}
			if i != next[g] {
				t.Fatalf("%s: sender %d: got message %d, want %d", name, g, i, next[g])
			}
			next[g]++
		}
	}
	wg.Wait()
	none(t, p.srvRec.messages, "extra server message")
	none(t, p.cliRec.messages, "extra client message")
}
