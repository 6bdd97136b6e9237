package base_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// silentMemServer accepts connections on a new memListener and never
// sends a byte on them, as a hung server does; it reports when it
// accepted each. The listener and connections close when the test ends.
func silentMemServer(t *testing.T) (*memListener, <-chan time.Time) {
	t.Helper()
	ln := newMemListener()
	accepted := make(chan time.Time, 64)
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			accepted <- time.Now()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return ln, accepted
}

// TestBackoffGrowsAgainstSilentServer reconnects to a server that accepts
// connections and never answers: each connection ends exactly at the
// receive timeout + 1/16, and since the server sent nothing over it the
// next attempt follows on from the one that opened it, with a doubled
// delay, instead of starting again at attempt 1. The client dials again
// exactly that delay after the loss.
func TestBackoffGrowsAgainstSilentServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln, accepted := silentMemServer(t)
		rr := newRedialRec(newRecorder())
		const initial = 100 * time.Millisecond
		b := base.Backoff{Initial: initial, Max: time.Minute, Jitter: -1}
		c := base.NewClient(native.New, rr.options(b, base.WithDialer(ln.dial), base.WithHeartbeat(vInterval, vTimeout))...)
		t.Cleanup(func() { c.Close() })
		if err := c.Connect(context.Background(), "server"); err != nil {
			t.Fatal(err)
		}
		opened := receive(t, accepted, "the first connection")
		for want := 1; want <= 5; want++ {
			a := receive(t, rr.attempts, "a reconnect attempt")
			wantDelay := initial << (want - 1)
			if a.n != want || a.delay != wantDelay {
				t.Fatalf("attempt %d after %v, want attempt %d after %v", a.n, a.delay, want, wantDelay)
			}
			if !errors.Is(a.err, base.ReasonConnectionLost) {
				t.Errorf("attempt %d follows %v, want the lost connection's close", a.n, a.err)
			}
			exactly(t, "the silent connection's life", time.Since(opened), vLost, "receive timeout + 1/16")
			at := receive(t, accepted, "a new connection")
			exactly(t, "the redial", at.Sub(opened), vLost+wantDelay, "the lost connection's life + the attempt's delay")
			receive(t, rr.reconnected, "the reconnected event")
			opened = at
		}
	})
}

// lostMemClient returns a client that lost its server (closed: dials are
// refused) and is reconnecting with b, its recorder, and when the loss
// was reported.
func lostMemClient(t *testing.T, b base.Backoff) (*base.Client, *redialRec, time.Time) {
	t.Helper()
	srv := base.NewServer(native.New)
	ln := newMemListener()
	serveMem(t, srv, ln)
	rr := newRedialRec(newRecorder())
	c := base.NewClient(native.New, rr.options(b, base.WithDialer(ln.dial))...)
	t.Cleanup(func() { c.Close() })
	must(t, c.Connect(context.Background(), "server"))
	receive(t, rr.rec.opened, "connected")
	srv.Close()
	receive(t, rr.rec.closed, "disconnected")
	return c, rr, time.Now()
}

// reportedDelays receives n attempts and checks that each comes exactly
// the previous one's delay after it (a refused dial fails at once), the
// first at the loss; it returns the delays.
func reportedDelays(t *testing.T, rr *redialRec, lost time.Time, n int) []time.Duration {
	t.Helper()
	var delays []time.Duration
	next := lost
	for i := 1; i <= n; i++ {
		a := receive(t, rr.attempts, "attempt")
		if a.n != i {
			t.Fatalf("attempt %d, want %d", a.n, i)
		}
		if i > 1 && !errors.Is(a.err, syscall.ECONNREFUSED) {
			t.Errorf("attempt %d follows %v, want the refused dial", i, a.err)
		}
		exactly(t, fmt.Sprintf("the wait before attempt %d", i), time.Since(next), 0, "the previous attempt's reported delay")
		next = time.Now().Add(a.delay)
		delays = append(delays, a.delay)
	}
	return delays
}

// TestReconnectBackoff checks the delays the hook reports, and that the
// client waits exactly each of them: exact without jitter, within the
// jitter otherwise, and the defaults for a zero Backoff.
func TestReconnectBackoff(t *testing.T) {
	t.Run("exact", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := base.Backoff{Initial: 50 * time.Millisecond, Max: 300 * time.Millisecond, Multiplier: 3, Jitter: -1, MaxAttempts: 5}
			_, rr, lost := lostMemClient(t, b)
			got := reportedDelays(t, rr, lost, 5)
			want := []time.Duration{50, 150, 300, 300, 300}
			for i, w := range want {
				if got[i] != w*time.Millisecond {
					t.Errorf("attempt %d: delay %v, want %v (Initial * Multiplier^(n-1), at most Max)", i+1, got[i], w*time.Millisecond)
				}
			}
			receive(t, rr.failed, "gave up")
			var total time.Duration
			for _, d := range got {
				total += d
			}
			exactly(t, "giving up", time.Since(lost), total, "the sum of the delays")
		})
	})
	t.Run("jitter", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := base.Backoff{Initial: 40 * time.Millisecond, Max: 320 * time.Millisecond, Jitter: 0.5, MaxAttempts: 8}
			_, rr, lost := lostMemClient(t, b)
			got := reportedDelays(t, rr, lost, 8)
			distinct := map[time.Duration]bool{}
			for i, d := range got {
				nominal := min(40*time.Millisecond<<i, 320*time.Millisecond)
				within(t, "delay (nominal ± 50 % jitter)", d, nominal/2, nominal*3/2)
				distinct[d] = true
			}
			if len(distinct) < 4 {
				t.Errorf("only %d distinct delays in 8 attempts: no jitter?", len(distinct))
			}
			receive(t, rr.failed, "gave up")
		})
	})
	t.Run("defaults", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c, rr, lost := lostMemClient(t, base.Backoff{})
			got := reportedDelays(t, rr, lost, 2)
			within(t, "first default delay (100 ms ± 20 %)", got[0], 80*time.Millisecond, 120*time.Millisecond)
			within(t, "second default delay (200 ms ± 20 %)", got[1], 160*time.Millisecond, 240*time.Millisecond)
			c.Close()
		})
	})
}

// TestCloseInGiveUpHookAfterTwoLosses: the give-up hook connects again,
// that connection is lost, the hook closes the client (stopping the loop
// that began, which waits for the hook to return), connects again and
// that one is lost too. The next Close from the hook must not wait for
// the newest loop either, for it waits on the one before, which waits on
// the hook.
func TestCloseInGiveUpHookAfterTwoLosses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Every dial but the second (the one reconnect attempt) opens a
		// connection that the far end closes at once.
		var dials atomic.Int32
		dial := func(context.Context, string, string) (net.Conn, error) {
			if dials.Add(1) == 2 {
				return nil, &net.OpError{Op: "dial", Net: "mem", Err: syscall.ECONNREFUSED}
			}
			a, b := memConnPair()
			b.Close()
			return a, nil
		}
		var c *base.Client
		done := make(chan error, 1)
		c = base.NewClient(native.New, base.WithDialer(dial),
			base.WithReconnect(base.Backoff{Initial: time.Millisecond, Jitter: -1, MaxAttempts: 1}),
			base.OnReconnectFailed(func(error) {
				for range 2 {
					if err := c.Connect(context.Background(), "server"); err != nil {
						done <- err
						return
					}
					synctest.Wait() // the connection is lost, a loop begins and waits for this hook
					c.Close()
				}
				done <- nil
			}))
		t.Cleanup(func() { c.Close() })
		must(t, c.Connect(context.Background(), "server"))
		select {
		case err := <-done:
			must(t, err)
		case <-time.After(time.Hour):
			t.Fatal("Close from the give-up hook did not return")
		}
		synctest.Wait()
		if n := reconnectLoops(); n != 0 {
			t.Fatalf("%d reconnect loops still running after the hook returned", n)
		}
	})
}
