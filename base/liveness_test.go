package base_test

import (
	"math"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

const (
	hbInterval = 50 * time.Millisecond
	hbTimeout  = 300 * time.Millisecond
)

// TestReceiveTimeout is the end-to-end check over loopback TCP (read
// through the raw connection, see rawread_unix.go) of what
// TestReceiveTimeoutExact asserts to the nanosecond in a bubble: a server
// whose client sends its preface and then nothing closes the session with
// ReasonConnectionLost, never before the receive timeout, and half-closes
// towards the client. Only a late close is allowed for: the machine may
// be busy.
func TestReceiveTimeout(t *testing.T) {
	rec := newRecorder()
	addr := serve(t, base.NewServer(native.New, rec.server(base.WithHeartbeat(hbInterval, hbTimeout))...))
	start := time.Now()
	peer := dialRaw(t, addr)
	peer.send(preface)
	s := receive(t, rec.opened, "session opened")
	if r := receive(t, rec.closed, "close of the silent session"); r != base.ReasonConnectionLost {
		t.Fatalf("reason %v, want %v", r, base.ReasonConnectionLost)
	}
	within(t, "closing a silent session", time.Since(start), hbTimeout, hbTimeout+hbTimeout/16+tolerance)
	closeErr(t, "Err", s.Err(), base.ReasonConnectionLost)
	none(t, rec.errs, "error event")
	peer.expectEnd()
}

// The largest limits and timeouts (a way to ask for no limit, as values
// <= 0 keep the defaults) work like any other: no arithmetic on them
// overflows into a deadline in the past or a negative limit.
func TestHugeLimitsAndTimeouts(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  base.Option
	}{
		{"write timeout", base.WithWriteTimeout(math.MaxInt64)},
		{"receive timeout", base.WithHeartbeat(hbInterval, math.MaxInt64)},
		{"response timeout", base.WithResponseTimeout(math.MaxInt64)},
		{"disconnect timeout", base.WithDisconnectTimeout(math.MaxInt64)},
		{"packet size", base.WithMaxPacketSize(math.MaxInt)},
		{"queued bytes", base.WithMaxQueuedBytes(math.MaxInt)},
		{"write buffer", base.WithMaxWriteBuffer(math.MaxInt)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t, []base.ServerOption{tc.opt, base.OnRequest(echo)}, []base.ClientOption{tc.opt})
			if err := p.client.SendMessage(ctxT(t), []byte("m")); err != nil {
				t.Fatal(err)
			}
			if got := receive(t, p.srvRec.messages, "message"); got != "m" {
				t.Fatalf("message %q, want %q", got, "m")
			}
			if resp, err := p.client.Request(ctxT(t), []byte("x")); err != nil || string(resp) != "echo:x" {
				t.Fatalf("request: %q, %v", resp, err)
			}
			if err := p.client.Disconnect(ctxT(t)); err != nil {
				t.Fatalf("Disconnect: %v", err)
			}
			if r := receive(t, p.srvRec.closed, "server closed"); r != base.ReasonGraceful {
				t.Fatalf("server closed with %v, want %v", r, base.ReasonGraceful)
			}
		})
	}
}
