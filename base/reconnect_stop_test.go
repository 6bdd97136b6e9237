package base_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// lostClient returns a client that lost its server (closed, port free) and
// is reconnecting with b, and its recorders.
func lostClient(t *testing.T, b base.Backoff, opts ...base.ClientOption) (*base.Client, *recorder, *redialRec) {
	t.Helper()
	srv := base.NewServer(native.New)
	ln := listen(t)
	serveOn(t, srv, ln)
	rec := newRecorder()
	rr := newRedialRec(rec)
	c := base.NewClient(native.New, rr.options(b, opts...)...)
	t.Cleanup(func() { c.Close() })
	must(t, c.Connect(ctxT(t), ln.Addr().String()))
	receive(t, rec.opened, "connected")
	srv.Close()
	receive(t, rec.closed, "disconnected")
	return c, rec, rr
}

// TestReconnectStoppedByCloseAndDisconnect: Close and Disconnect end a
// reconnect loop at any point (waiting, or inside its hook) and return
// once its goroutine has ended.
func TestReconnectStoppedByCloseAndDisconnect(t *testing.T) {
	slow := base.Backoff{Initial: time.Hour, Max: time.Hour}
	for _, how := range []string{"Close", "Disconnect"} {
		stop := func(c *base.Client) error {
			if how == "Close" {
				return c.Close()
			}
			return c.Disconnect(context.Background())
		}
		// stopped checks, once every goroutine of the bubble is blocked, that
		// no reconnect loop runs, and that no attempt comes for two hours.
		stopped := func(t *testing.T, rr *redialRec) {
			t.Helper()
			synctest.Wait()
			if n := reconnectLoops(); n != 0 {
				t.Fatalf("%d reconnect loops still running after %s returned", n, how)
			}
			time.Sleep(2 * time.Hour)
			select {
			case a := <-rr.attempts:
				t.Fatalf("attempt %d after %s", a.n, how)
			default:
			}
		}
		t.Run(how+" while waiting", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, rr, _ := lostMemClient(t, slow)
				a := receive(t, rr.attempts, "reconnecting")
				if a.delay < 40*time.Minute {
					t.Fatalf("delay %v, want about an hour", a.delay)
				}
				start := time.Now()
				must(t, stop(c))
				exactly(t, how, time.Since(start), 0, "it does not wait for the delay")
				stopped(t, rr)
				// Stopped, the client is disconnected: Connect is allowed (and
				// refused by the closed listener).
				if err := c.Connect(ctxT(t), "server"); !errors.Is(err, syscall.ECONNREFUSED) {
					t.Fatalf("Connect to a closed listener after %s: %v", how, err)
				}
			})
		})
		t.Run(how+" while dialing", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				// The first Connect dials the listener; reconnect attempts
				// hang until their context ends.
				ln := newMemListener()
				srv := base.NewServer(native.New)
				serveMem(t, srv, ln)
				dialing := make(chan struct{}, 16)
				var n atomic.Int32
				rr := newRedialRec(newRecorder())
				c := base.NewClient(native.New, rr.options(fastBackoff, base.WithDialer(func(ctx context.Context, network, addr string) (net.Conn, error) {
					if n.Add(1) == 1 {
						return ln.dial(ctx, network, addr)
					}
					dialing <- struct{}{}
					<-ctx.Done()
					return nil, ctx.Err()
				}))...)
				t.Cleanup(func() { c.Close() })
				must(t, c.Connect(context.Background(), "server"))
				receive(t, rr.rec.opened, "connected")
				srv.Close()
				receive(t, rr.attempts, "reconnecting")
				receive(t, dialing, "dialing")
				start := time.Now()
				must(t, stop(c))
				exactly(t, how, time.Since(start), 0, "it ends the dial under way")
				stopped(t, rr)
			})
		})
		t.Run(how+" from the reconnecting hook", func(t *testing.T) {
			var c *base.Client
			ready := make(chan struct{})
			returned := make(chan error, 1)
			c, _, _ = lostClient(t, fastBackoff, base.OnReconnecting(func(n int, _ time.Duration, _ error) {
				if n == 2 {
					<-ready
					returned <- stop(c) // must not wait for this very goroutine
				}
			}))
			close(ready)
			if err := receive(t, returned, how+" from the hook"); err != nil {
				t.Fatalf("%s: %v", how, err)
			}
			waitNoLoops(t)
		})
	}
}

// waitNoLoops waits for every reconnect goroutine to end.
func waitNoLoops(t *testing.T) {
	t.Helper()
	loopsGone(t, waitTime)
}

// loopsGone fails unless every reconnect goroutine ends within d. Right
// after Close or Disconnect, d is short: the goroutine has signalled its end
// and has only to return (a loop not waited for would still be blocked in
// its hour-long delay or its dial).
func loopsGone(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		n := reconnectLoops()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d reconnect loops still running after %v", n, d)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestReconnectGivesUp: after MaxAttempts failed attempts the failed hook
// gets the last error, the client is disconnected (no loop, sends fail with
// ErrNotConnected), and Connect works again, even from that hook.
func TestReconnectGivesUp(t *testing.T) {
	srvRec := newRecorder()
	live := serve(t, base.NewServer(native.New, srvRec.server(base.OnRequest(echo))...))
	var c *base.Client
	ready := make(chan struct{})
	connected := make(chan error, 1)
	b := base.Backoff{Initial: time.Millisecond, Max: 2 * time.Millisecond, MaxAttempts: 3}
	c, rec, rr := lostClient(t, b, base.OnReconnectFailed(func(err error) {
		<-ready
		if !errors.Is(err, syscall.ECONNREFUSED) || !strings.Contains(err.Error(), "3 attempts") {
			t.Errorf("gave up with %v, want the last dial error after 3 attempts", err)
		}
		if err := c.SendMessage(context.Background(), nil); !errors.Is(err, base.ErrNotConnected) ||
			strings.Contains(err.Error(), "reconnecting") {
			t.Errorf("SendMessage after giving up: %v", err)
		}
		connected <- c.Connect(context.Background(), live)
	}))
	close(ready)
	for i := 1; i <= 3; i++ {
		if a := receive(t, rr.attempts, "attempt"); a.n != i {
			t.Fatalf("attempt %d, want %d", a.n, i)
		}
	}
	must(t, receive(t, connected, "Connect from the failed hook"))
	receive(t, rec.opened, "connected to the live server")
	receive(t, srvRec.opened, "session on the live server")
	none(t, rr.reconnected, "reconnected event for a Connect")
	if resp, err := c.Request(ctxT(t), []byte("z")); err != nil || string(resp) != "echo:z" {
		t.Fatalf("request: %q, %v", resp, err)
	}
	waitNoLoops(t)
	none(t, rr.attempts, "attempt after giving up")
}

// TestRequestsInFlightFailAtLoss: a request waiting for its response when
// the connection is lost fails at once with the close error, and the client
// then reconnects.
func TestRequestsInFlightFailAtLoss(t *testing.T) {
	srvRec := newRecorder()
	srv := base.NewServer(native.New, srvRec.server(base.OnRequest(blockUntilDone))...)
	ln := listen(t)
	serveOn(t, srv, ln)
	rec := newRecorder()
	rr := newRedialRec(rec)
	c := base.NewClient(native.New, rr.options(fastBackoff)...)
	t.Cleanup(func() { c.Close() })
	must(t, c.Connect(ctxT(t), ln.Addr().String()))
	receive(t, rec.opened, "connected")
	ss := receive(t, srvRec.opened, "session")

	failed := make(chan error, 1)
	go func() {
		_, err := c.Request(ctxT(t), []byte("wait"))
		failed <- err
	}()
	// Wait until the request is being handled, then cut the connection.
	deadline := time.Now().Add(waitTime)
	for !requestPending(c) {
		if time.Now().After(deadline) {
			t.Fatal("request not sent")
		}
		time.Sleep(2 * time.Millisecond)
	}
	start := time.Now()
	must(t, ss.NetConn().(*net.TCPConn).SetLinger(0))
	ss.Close()
	err := receive(t, failed, "request to fail")
	within(t, "failing the pending request", time.Since(start), 0, tolerance)
	var ce *base.CloseError
	if !errors.As(err, &ce) || errors.Is(err, base.ErrNotConnected) {
		t.Fatalf("pending request failed with %v, want the *CloseError of the lost connection", err)
	}
	receive(t, rr.reconnected, "reconnected")
}

// requestPending reports whether c's connection has a request waiting: the
// server handler blocks, so a request with a short deadline times out.
func requestPending(c *base.Client) bool {
	s := c.Session()
	if s == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	_, err := s.Request(ctx, []byte("probe"))
	return errors.Is(err, context.DeadlineExceeded)
}

// TestReconnectHookPanics: a panicking reconnect hook is reported as an
// error event with a nil Session and the client goes on reconnecting.
func TestReconnectHookPanics(t *testing.T) {
	addr := freeAddr(t)
	errs := make(chan error, 16)
	attempts := make(chan int, 16)
	srv := base.NewServer(native.New)
	ln := listenOn(t, addr)
	serveOn(t, srv, ln)
	c := base.NewClient(native.New,
		base.WithReconnect(fastBackoff),
		base.OnError(func(s *base.Session, err error) {
			if s == nil {
				errs <- err
			}
		}),
		base.OnReconnecting(func(n int, _ time.Duration, _ error) {
			attempts <- n
			if n == 1 {
				panic("hook")
			}
		}))
	t.Cleanup(func() { c.Close() })
	must(t, c.Connect(ctxT(t), addr))
	srv.Close()
	var pe *base.PanicError
	if err := receive(t, errs, "panic event"); !errors.As(err, &pe) || pe.Value != "hook" {
		t.Fatalf("error event %v, want the hook's panic", err)
	}
	receive(t, attempts, "first attempt")
	if n := receive(t, attempts, "second attempt"); n != 2 {
		t.Fatalf("attempt %d after the panic", n)
	}
}
