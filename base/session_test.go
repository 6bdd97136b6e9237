package base_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/netmessage-go/netmessage/base"
)

func echo(_ context.Context, _ *base.Session, p []byte) []byte {
	return append([]byte("echo:"), p...)
}

func TestMessageAndRequestBothWays(t *testing.T) {
	p := newPair(t,
		[]base.ServerOption{base.OnRequest(echo)},
		[]base.ClientOption{base.OnRequest(echo)})
	ctx := ctxT(t)

	if err := p.client.SendMessage(ctx, []byte("to server")); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, p.srvRec.messages, "message"); got != "to server" {
		t.Fatalf("server got %q", got)
	}
	if err := p.srvSess.SendMessage(ctx, []byte("to client")); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, p.cliRec.messages, "message"); got != "to client" {
		t.Fatalf("client got %q", got)
	}
	resp, err := p.client.Request(ctx, []byte("ping"))
	if err != nil || string(resp) != "echo:ping" {
		t.Fatalf("client request: %q, %v", resp, err)
	}
	resp, err = p.srvSess.Request(ctx, []byte("pong"))
	if err != nil || string(resp) != "echo:pong" {
		t.Fatalf("server request: %q, %v", resp, err)
	}
}

func TestBurstInOrderBothWays(t *testing.T) {
	p := newPair(t, nil, nil)
	ctx := ctxT(t)
	const n = 1000
	send := func(s interface {
		SendMessage(context.Context, []byte) error
	}) {
		for i := range n {
			if err := s.SendMessage(ctx, fmt.Appendf(nil, "m%d", i)); err != nil {
				t.Error(err)
				return
			}
		}
	}
	go send(p.client)
	go send(p.srvSess)
	for _, rec := range []*recorder{p.srvRec, p.cliRec} {
		for i := range n {
			if got, want := receive(t, rec.messages, "burst message"), fmt.Sprintf("m%d", i); got != want {
				t.Fatalf("message %d: got %q, want %q", i, got, want)
			}
		}
	}
}

func TestGracefulDisconnectBothEnds(t *testing.T) {
	p := newPair(t, nil, nil)
	if err := p.client.Disconnect(ctxT(t)); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	if r := receive(t, p.cliRec.closed, "client closed"); r != base.ReasonGraceful {
		t.Errorf("client reason %v", r)
	}
	if r := receive(t, p.srvRec.closed, "server closed"); r != base.ReasonGraceful {
		t.Errorf("server reason %v", r)
	}
	if _, err := p.client.Request(ctxT(t), nil); !errors.Is(err, base.ErrClosed) {
		t.Errorf("request after disconnect: %v", err)
	}
}
