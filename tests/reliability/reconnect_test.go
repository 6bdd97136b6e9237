package reliability

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/tests/internal/faultproxy"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// attempt is a reconnect attempt as the OnReconnecting hook saw it.
type attempt struct {
	n     int
	delay time.Duration
	err   error
	at    time.Time
}

// TestReconnectThroughFaults breaks the link between a client with
// WithReconnect and its server in three ways (cut, reset, stall) while the
// network stays down for two attempts (the client's dials are refused).
// For each, the pending request fails at once with the lost connection's
// *base.CloseError; while the client is reconnecting, Send and Request
// fail at once with an error matching base.ErrNotConnected, ErrClosed and
// the reason; attempts go on with the backoff (the delays it reports, and
// the waits between attempts, are the backoff's); and once the network is
// back the client reconnects by itself and typed requests and messages
// work again on a new session.
func TestReconnectThroughFaults(t *testing.T) {
	const interval, timeout = 50 * time.Millisecond, 500 * time.Millisecond
	backoff := base.Backoff{Initial: 50 * time.Millisecond, Max: 100 * time.Millisecond, Jitter: -1}
	for _, tc := range []struct {
		name    string
		fault   func(*faultproxy.Conn)
		reasons []base.CloseReason // what the client may report
	}{
		// A cut is the peer ending the stream; an answer written after it
		// makes it a network error.
		{"cut", (*faultproxy.Conn).Cut, []base.CloseReason{base.ReasonGraceful, base.ReasonNetworkError}},
		{"reset", (*faultproxy.Conn).Reset, []base.CloseReason{base.ReasonNetworkError}},
		{"stall", func(c *faultproxy.Conn) { c.Stall(faultproxy.Both) }, []base.CloseReason{base.ReasonConnectionLost}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var down atomic.Bool
			dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
				if down.Load() {
					return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
				}
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			}
			attempts := make(chan attempt, 64)
			reconnected := make(chan time.Time, 4)
			fp := newFaultPair(t, []any{
				base.WithDialer(dial),
				base.WithReconnect(backoff),
				base.OnReconnecting(func(n int, delay time.Duration, err error) {
					attempts <- attempt{n, delay, err, time.Now()}
				}),
				base.OnReconnected(func(*base.Session) { reconnected <- time.Now() }),
			}, netmessage.WithTransport(base.WithHeartbeat(interval, timeout)))
			if r, err := netmessage.Request(testutil.Ctx(t), fp.c.c, Echo{N: 1}); err != nil || r.N != 1 {
				t.Fatalf("request before the fault: %+v, %v", r, err)
			}
			pending, _ := fp.blockBothWays(t)

			down.Store(true)
			faulted := time.Now()
			tc.fault(fp.link)
			lost := testutil.Recv(t, fp.c.closed, "the client's connection to close")
			if !contains(tc.reasons, lost.reason) {
				t.Errorf("the client's connection closed with %v, want one of %v", lost.reason.String(), tc.reasons)
			}
			o := testutil.Recv(t, pending, "the pending request to fail")
			var ce *base.CloseError
			if !errors.As(o.err, &ce) || !errors.Is(o.err, base.ErrClosed) {
				t.Errorf("pending request: %v, want a *base.CloseError", o.err)
			}
			testutil.Within(t, "the pending request failing", o.at.Sub(faulted), 0, lost.at.Sub(faulted)+tolerance)

			first := testutil.Recv(t, attempts, "reconnect attempt 1")
			if first.n != 1 || !errors.Is(first.err, lost.reason) {
				t.Errorf("attempt %d after %v, want attempt 1 after the lost connection's %v", first.n, first.err, lost.reason.String())
			}
			// No jitter: the delays are exactly the backoff's.
			if first.delay != backoff.Initial {
				t.Errorf("attempt 1 waits %v, want the backoff's Initial %v", first.delay, backoff.Initial)
			}
			// Reconnecting: calls fail at once, nothing is queued.
			var calls durations
			for range 3 {
				began := time.Now()
				err := netmessage.Send(context.Background(), fp.c.c, Seq{N: 1})
				calls = append(calls, time.Since(began))
				checkNotConnected(t, "Send", err, lost.reason)
				began = time.Now()
				_, err = netmessage.Request(context.Background(), fp.c.c, Echo{N: 2})
				calls = append(calls, time.Since(began))
				checkNotConnected(t, "Request", err, lost.reason)
			}
			if calls.max() > tolerance/4 {
				t.Errorf("calls while reconnecting took %v, want them to fail at once", calls)
			}
			if err := fp.c.c.Connect(testutil.Ctx(t), fp.p.Addr()); !errors.Is(err, base.ErrAlreadyConnected) {
				t.Errorf("Connect while reconnecting: %v, want ErrAlreadyConnected", err)
			}

			// The network stays down for the next attempt, then comes back.
			second := testutil.Recv(t, attempts, "reconnect attempt 2")
			if second.n != 2 || !errors.Is(second.err, syscall.ECONNREFUSED) {
				t.Errorf("attempt %d after %v, want attempt 2 after the refused dial", second.n, second.err)
			}
			// Initial times the default multiplier 2, within Max.
			if want := min(2*backoff.Initial, backoff.Max); second.delay != want {
				t.Errorf("attempt 2 waits %v, want %v (Initial * 2, at most Max)", second.delay, want)
			}
			// Attempt 1 dialed (and was refused at once) after its delay.
			if d := second.at.Sub(first.at); d < first.delay {
				t.Errorf("attempt 2 came %v after attempt 1, before attempt 1's delay of %v", d, first.delay)
			}
			up := time.Now()
			down.Store(false)
			back := testutil.Recv(t, reconnected, "the client to reconnect")
			// Whichever attempt got through, attempt 2's delay came first.
			if d := back.Sub(second.at); d < second.delay {
				t.Errorf("reconnected %v after attempt 2 was announced, before its delay of %v", d, second.delay)
			}
			sess := testutil.Recv(t, fp.s.opened, "the new server session")
			testutil.Recv(t, fp.links, "the new proxied connection")
			if sess == fp.sess {
				t.Error("the server reused the lost session")
			}
			if r, err := netmessage.Request(testutil.Ctx(t), fp.c.c, Echo{N: 3}); err != nil || r.N != 3 {
				t.Fatalf("request after reconnecting: %+v, %v", r, err)
			}
			testutil.Must(t, netmessage.Send(testutil.Ctx(t), fp.c.c, Seq{N: 4}))
			if m := testutil.Recv(t, fp.srvSeq, "a message after reconnecting"); m.N != 4 {
				t.Errorf("message after reconnecting: %+v", m)
			}
			testutil.Must(t, netmessage.Send(testutil.Ctx(t), sess, Seq{N: 5}))
			if m := testutil.Recv(t, fp.cliSeq, "a message from the new session"); m.N != 5 {
				t.Errorf("message from the new session: %+v", m)
			}
			t.Logf("%s: the client saw %v after %v; calls while reconnecting failed in %v; back %v after the network was (attempt 2 waited %v)",
				tc.name, lost.reason.String(), round(lost.at.Sub(faulted)), calls,
				round(back.Sub(up)), second.delay)

			// A disconnect from this end ends it for good.
			testutil.Must(t, fp.c.c.Disconnect(testutil.Ctx(t)))
			if ev := testutil.Recv(t, fp.c.closed, "the client to close"); ev.reason != base.ReasonGraceful {
				t.Errorf("client closed with %v after Disconnect, want graceful", ev.reason.String())
			}
			testutil.None(t, attempts, "a reconnect attempt after Disconnect")
		})
	}
}

// checkNotConnected checks the error of a call made while reconnecting.
func checkNotConnected(t *testing.T, call string, err error, reason base.CloseReason) {
	t.Helper()
	var ce *base.CloseError
	if !errors.Is(err, base.ErrNotConnected) || !errors.Is(err, base.ErrClosed) || !errors.Is(err, reason) || !errors.As(err, &ce) {
		t.Errorf("%s while reconnecting: %v, want an error matching ErrNotConnected, ErrClosed, %v and *base.CloseError", call, err, reason.String())
	}
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
