package main

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	childMain()
	goleak.VerifyTestMain(m)
}

// TestSmoke runs each phase once, small.
func TestSmoke(t *testing.T) {
	p, err := start(3, 30)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	if n := p.send(200, 100*time.Millisecond); n == 0 {
		t.Fatal("nothing sent")
	} else if st := p.wait(n); st.p50 <= 0 || st.p99 < st.p50 {
		t.Fatalf("latency figures %+v", st)
	}
	n := p.send(0, 300)
	p.wait(n)
	if err := p.nodes[0].Broadcast(context.Background(), Msg{Sent: time.Now().UnixNano()}); err != nil {
		t.Fatal(err)
	}
	p.wait(30)
}

// TestStartRefusesBadCounts: a cluster with no server, or with a server
// that has no session for the one before it to send to, is refused rather
// than crashing the run.
func TestStartRefusesBadCounts(t *testing.T) {
	for _, c := range []struct{ servers, sessions int }{{0, 10}, {3, 2}} {
		if p, err := start(c.servers, c.sessions); err == nil {
			p.close()
			t.Errorf("%d servers, %d sessions: no error", c.servers, c.sessions)
		}
	}
}
