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
