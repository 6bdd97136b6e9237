package interop

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// TestCallInfoOverCompat checks what the .NET protocol, which cannot carry
// call information, does with it: metadata on a request or message is
// refused with base.ErrNoCallInfo and nothing is sent; a cancelled caller
// stops waiting at once, while the handler on the other end runs on (its
// context has no deadline and is not cancelled); requests without call
// information work as ever.
func TestCallInfoOverCompat(t *testing.T) {
	started := make(chan context.Context, 1)
	release := make(chan struct{})
	s := startServer(t, func(srv *netmessage.Mux) {
		netmessage.HandleRequest(srv, func(ctx context.Context, _ *base.Session, r WeatherRequest) (WeatherResponse, error) {
			if r.City == "slow" {
				started <- ctx
				<-release
			}
			return WeatherResponse{Forecast: "Sunny in " + r.City}, nil
		})
	})
	c := s.connect(t, nil)

	md := base.AppendMetadata(testutil.Ctx(t), "auth", "token")
	if _, err := netmessage.Request(md, c.c, WeatherRequest{City: "Bonn"}); !errors.Is(err, base.ErrNoCallInfo) {
		t.Fatalf("Request with metadata: %v, want base.ErrNoCallInfo", err)
	}
	if err := netmessage.Send(md, c.c, ChatMessage{Text: "hi"}); !errors.Is(err, base.ErrNoCallInfo) {
		t.Fatalf("Send with metadata: %v, want base.ErrNoCallInfo", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), testutil.WaitTime)
	done := make(chan error, 1)
	go func() {
		_, err := netmessage.Request(ctx, c.c, WeatherRequest{City: "slow"})
		done <- err
	}()
	hctx := testutil.Recv(t, started, "the handler")
	if _, ok := hctx.Deadline(); ok {
		t.Error("the handler's context has a deadline over the .NET protocol")
	}
	cancel()
	if err := testutil.Recv(t, done, "the cancelled request"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Request: %v", err)
	}
	select {
	case <-hctx.Done():
		t.Fatal("the handler's context ended: a cancel crossed the .NET protocol")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)

	resp, err := netmessage.Request(testutil.Ctx(t), c.c, WeatherRequest{City: "Bonn"})
	if err != nil || resp.Forecast != "Sunny in Bonn" {
		t.Fatalf("Request without call information: %+v, %v", resp, err)
	}
	s.ev.noErrors(t)
	c.ev.noErrors(t)
}
