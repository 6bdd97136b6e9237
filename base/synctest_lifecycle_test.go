package base_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// vDisconnect is the disconnect timeout of the bubble tests.
const vDisconnect = 1500 * time.Millisecond

// TestDisconnectTimeout: a graceful disconnect the peer does not finish
// ends exactly at the disconnect timeout, or at ctx's end when that comes
// first, with ReasonDisconnectTimeout.
func TestDisconnectTimeout(t *testing.T) {
	t.Run("raw peer never closes", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ln := newMemListener()
			peers := make(chan *rawPeer, 1)
			go func() { peers <- acceptMem(t, ln) }()
			rec := newRecorder()
			c, _, _ := dialMem(t, ln, rec, nil, base.WithDisconnectTimeout(vDisconnect))
			peer := <-peers
			peer.send(preface)

			start := time.Now()
			err := c.Disconnect(context.Background())
			exactly(t, "Disconnect", time.Since(start), vDisconnect, "the disconnect timeout")
			closeErr(t, "Disconnect", err, base.ReasonDisconnectTimeout)
			if r := receive(t, rec.closed, "client closed"); r != base.ReasonDisconnectTimeout {
				t.Errorf("client reason %v", r)
			}
			// The client did half-close: the peer reads the end of the stream.
			peer.expectEnd()
		})
	})

	t.Run("ctx ends first", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ln := newMemListener()
			peers := make(chan *rawPeer, 1)
			go func() { peers <- acceptMem(t, ln) }()
			rec := newRecorder()
			c, _, _ := dialMem(t, ln, rec, nil, base.WithDisconnectTimeout(time.Minute))
			(<-peers).send(preface)

			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), vDisconnect)
			defer cancel()
			err := c.Disconnect(ctx)
			exactly(t, "Disconnect", time.Since(start), vDisconnect, "ctx's deadline")
			closeErr(t, "Disconnect", err, base.ReasonDisconnectTimeout)
			if r := receive(t, rec.closed, "client closed"); r != base.ReasonDisconnectTimeout {
				t.Errorf("client reason %v", r)
			}
		})
	})

	t.Run("peer handler ignores ctx", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			started := make(chan struct{}, 1)
			release := make(chan struct{})
			p := newMemPair(t,
				[]base.ServerOption{
					base.WithDisconnectTimeout(time.Minute),
					base.OnRequest(func(context.Context, *base.Session, []byte) []byte {
						started <- struct{}{}
						<-release
						return nil
					}),
				},
				[]base.ClientOption{base.WithDisconnectTimeout(vDisconnect)})
			t.Cleanup(func() { close(release) })

			reqErr := make(chan error, 1)
			go func() {
				_, err := p.client.Request(context.Background(), []byte("block"))
				reqErr <- err
			}()
			receive(t, started, "handler started")
			start := time.Now()
			err := p.client.Disconnect(context.Background())
			exactly(t, "Disconnect", time.Since(start), vDisconnect, "the disconnect timeout")
			closeErr(t, "Disconnect", err, base.ReasonDisconnectTimeout)
			if r := receive(t, p.cliRec.closed, "client closed"); r != base.ReasonDisconnectTimeout {
				t.Errorf("client reason %v", r)
			}
			// The pending request failed with the close.
			closeErr(t, "pending request", receive(t, reqErr, "request result"), base.ReasonDisconnectTimeout)
		})
	})
}

// TestShutdownPeerNeverFinishes: Shutdown disconnects a session whose
// peer never finishes the handshake exactly at the disconnect timeout,
// with ReasonDisconnectTimeout, and then returns nil.
func TestShutdownPeerNeverFinishes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		srv := base.NewServer(native.New, rec.server(base.WithDisconnectTimeout(vDisconnect))...)
		ln := newMemListener()
		serveMem(t, srv, ln)
		conn, err := ln.dial(context.Background(), "", "")
		if err != nil {
			t.Fatal(err)
		}
		peer := newRawPeer(t, conn)
		peer.send(preface)
		s := receive(t, rec.opened, "session opened")

		start := time.Now()
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		exactly(t, "Shutdown", time.Since(start), vDisconnect, "the disconnect timeout")
		closeErr(t, "session Err", s.Err(), base.ReasonDisconnectTimeout)
		if r := receive(t, rec.closed, "session closed"); r != base.ReasonDisconnectTimeout {
			t.Errorf("session reason %v, want %v", r, base.ReasonDisconnectTimeout)
		}
		peer.expectEnd()
	})
}

// TestShutdownContextEnds: a handler that ignores its context holds up
// Shutdown until Shutdown's ctx ends, exactly; the session is then closed
// with ReasonServerShutdown and the client's pending request fails.
func TestShutdownContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		started := make(chan struct{}, 1)
		release := make(chan struct{})
		p := newMemPair(t, []base.ServerOption{
			base.OnRequest(func(context.Context, *base.Session, []byte) []byte {
				started <- struct{}{}
				<-release // ignores ctx
				return nil
			}),
		}, nil)
		t.Cleanup(func() { close(release) })

		reqErr := make(chan error, 1)
		go func() {
			_, err := p.client.Request(context.Background(), []byte("block"))
			reqErr <- err
		}()
		receive(t, started, "handler started")

		const d = 700 * time.Millisecond
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		err := p.srv.Shutdown(ctx)
		exactly(t, "Shutdown", time.Since(start), d, "ctx's deadline")
		if err != context.DeadlineExceeded {
			t.Fatalf("Shutdown: %v, want context.DeadlineExceeded", err)
		}
		closeErr(t, "server session Err", p.srvSess.Err(), base.ReasonServerShutdown)
		if r := receive(t, p.srvRec.closed, "server closed"); r != base.ReasonServerShutdown {
			t.Errorf("server reason %v, want %v", r, base.ReasonServerShutdown)
		}
		receive(t, p.cliRec.closed, "client closed")
		if err := receive(t, reqErr, "pending request"); !errors.Is(err, base.ErrClosed) {
			t.Errorf("pending request: %v, want a close error", err)
		}
	})
}

// TestShutdownContextBoundsBlockedVerifier: Shutdown's context bounds the
// wait for a verifier that blocks on something other than its connection
// (a call to another service, say): Shutdown returns the context's error
// exactly when it ends.
func TestShutdownContextBoundsBlockedVerifier(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		vetting := make(chan struct{}, 1)
		release := make(chan struct{})
		srv := base.NewServer(native.New, base.WithVerifier(func(net.Conn) error {
			vetting <- struct{}{}
			<-release // ignores the connection
			return nil
		}))
		ln := newMemListener()
		serveMem(t, srv, ln)
		t.Cleanup(func() { close(release) }) // runs before serveMem's Close
		conn, err := ln.dial(context.Background(), "", "")
		if err != nil {
			t.Fatal(err)
		}
		newRawPeer(t, conn)
		receive(t, vetting, "verifier running")

		const d = 700 * time.Millisecond
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		err = srv.Shutdown(ctx)
		exactly(t, "Shutdown", time.Since(start), d, "ctx's deadline")
		if err != context.DeadlineExceeded {
			t.Errorf("Shutdown: %v, want context.DeadlineExceeded", err)
		}
	})
}

// TestDisconnectAnswersInFlightRequest: a request in flight when its sender
// starts a graceful disconnect is still answered: the peer's handler runs
// to its end (100 ms here) and its response is written before the peer
// half-closes; the call returns exactly then.
func TestDisconnectAnswersInFlightRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const work = 100 * time.Millisecond
		p := newMemPair(t, []base.ServerOption{base.OnRequest(func(_ context.Context, _ *base.Session, q []byte) []byte {
			time.Sleep(work) // virtual: the handler's own work
			return append([]byte("done:"), q...)
		})}, nil)
		type reply struct {
			resp []byte
			err  error
			at   time.Duration
		}
		replies := make(chan reply, 1)
		start := time.Now()
		go func() {
			resp, err := p.client.Request(context.Background(), []byte("q"))
			replies <- reply{resp, err, time.Since(start)}
		}()
		synctest.Wait() // the handler sleeps: the request is in flight
		if err := p.client.Disconnect(ctxT(t)); err != nil {
			t.Fatalf("Disconnect: %v", err)
		}
		r := receive(t, replies, "reply")
		if r.err != nil || string(r.resp) != "done:q" {
			t.Fatalf("in-flight request: %q, %v", r.resp, r.err)
		}
		exactly(t, "the in-flight request", r.at, work, "its handler's work")
		// New requests are refused once the disconnect began.
		if _, err := p.client.Request(ctxT(t), nil); !errors.Is(err, base.ErrClosed) {
			t.Fatalf("request after Disconnect: %v", err)
		}
		if r := receive(t, p.srvRec.closed, "server closed"); r != base.ReasonGraceful {
			t.Errorf("server reason %v", r)
		}
		if r := receive(t, p.cliRec.closed, "client closed"); r != base.ReasonGraceful {
			t.Errorf("client reason %v", r)
		}
	})
}

// TestSecondDisconnectBoundedByItsContext: a Disconnect that finds another
// one under way waits for it only as long as its ctx allows (exactly its
// 100 ms); then it closes the connection with ReasonDisconnectTimeout, as
// the first would have.
func TestSecondDisconnectBoundedByItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		p := newMemPair(t, []base.ServerOption{
			base.WithDisconnectTimeout(time.Minute),
			base.OnRequest(func(_ context.Context, _ *base.Session, q []byte) []byte {
				<-release // a handler that takes its time
				return q
			})}, nil)
		defer close(release)
		go p.client.Request(context.Background(), []byte("slow"))
		synctest.Wait() // the handler waits
		first := make(chan error, 1)
		go func() { first <- p.srvSess.Disconnect(context.Background()) }()
		synctest.Wait() // the first Disconnect waits for the handler
		const d = 100 * time.Millisecond
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		start := time.Now()
		closeErr(t, "second Disconnect", p.srvSess.Disconnect(ctx), base.ReasonDisconnectTimeout)
		exactly(t, "the second Disconnect", time.Since(start), d, "its ctx's deadline")
		closeErr(t, "session", p.srvSess.Err(), base.ReasonDisconnectTimeout)
		closeErr(t, "first Disconnect", receive(t, first, "first Disconnect"), base.ReasonDisconnectTimeout)
	})
}

// TestStopFromServerErrorHook: the error hook may stop its server when a
// connection is refused (a failed TLS handshake, too many sessions): Close
// and Shutdown return, and Serve returns ErrServerClosed. They wait for
// the connections being set up, so the event must come after the refused
// one stopped counting as one.
func TestStopFromServerErrorHook(t *testing.T) {
	p := newPKI(t)
	stops := map[string]func(*base.Server) error{
		"Close":    (*base.Server).Close,
		"Shutdown": func(srv *base.Server) error { return srv.Shutdown(context.Background()) },
	}
	refusals := map[string]struct {
		opt  base.ServerOption
		want error
		// refuse makes the server refuse a connection.
		refuse func(t *testing.T, ln *memListener)
	}{
		"handshake": {base.WithTLS(p.serverConfig(false)), base.ErrHandshake, func(t *testing.T, ln *memListener) {
			conn, err := ln.dial(context.Background(), "", "")
			must(t, err)
			conn.Close()
		}},
		"too many sessions": {base.WithMaxSessions(1), base.ErrTooManySessions, func(t *testing.T, ln *memListener) {
			for range 2 {
				conn, err := ln.dial(context.Background(), "", "")
				must(t, err)
				t.Cleanup(func() { conn.Close() })
			}
		}},
	}
	for sname, stop := range stops {
		for rname, r := range refusals {
			t.Run(sname+"/"+rname, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					var srv *base.Server
					stopped := make(chan error, 1)
					srv = base.NewServer(native.New, r.opt, base.OnError(func(s *base.Session, err error) {
						if s == nil && errors.Is(err, r.want) {
							stopped <- stop(srv)
						}
					}))
					ln := newMemListener()
					served := make(chan error, 1)
					go func() { served <- srv.Serve(ln) }()
					r.refuse(t, ln)
					select {
					case err := <-stopped:
						must(t, err)
					case <-time.After(time.Minute):
						t.Fatalf("%s called from the error hook did not return", sname)
					}
					if err := <-served; !errors.Is(err, base.ErrServerClosed) {
						t.Fatalf("Serve: %v, want ErrServerClosed", err)
					}
				})
			})
		}
	}
}
