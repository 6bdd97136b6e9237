package base_test

import (
	"context"
	"errors"
	"net"
	"testing"
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
		bubble(t, func(t *testing.T) {
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
		bubble(t, func(t *testing.T) {
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
		bubble(t, func(t *testing.T) {
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
	bubble(t, func(t *testing.T) {
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
	bubble(t, func(t *testing.T) {
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
	bubble(t, func(t *testing.T) {
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
