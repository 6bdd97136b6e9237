package base_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// TestTLSHandshakeTimeout: a TLS handshake the peer does not take part in
// fails exactly at the handshake timeout (the server's counted from its
// accept), or at the end of Connect's ctx when that comes first.
func TestTLSHandshakeTimeout(t *testing.T) {
	p := newPKI(t)
	const timeout = 700 * time.Millisecond
	// The address a client connects to, which the memListener's dialer
	// ignores; the client takes the TLS server name from it.
	const tlsAddr = "127.0.0.1:1"
	t.Run("server", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec := newRecorder()
			ln := newMemListener()
			serveMem(t, base.NewServer(native.New, rec.server(base.WithTLS(p.serverConfig(false)), base.WithHandshakeTimeout(timeout))...), ln)
			start := time.Now()
			conn, err := ln.dial(context.Background(), "", "")
			must(t, err)
			defer conn.Close()
			err = expectHandshakeEvent(t, rec, "no handshake within 700ms")
			exactly(t, "the server's handshake", time.Since(start), timeout, "the handshake timeout")
			t.Logf("server: %v", err)
			must(t, conn.SetReadDeadline(time.Now().Add(waitTime)))
			if n, err := conn.Read(make([]byte, 1)); err == nil {
				t.Fatalf("read %d bytes from a connection that should be closed", n)
			}
		})
	})
	t.Run("client", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ln, _ := silentMemServer(t)
			c := base.NewClient(native.New, base.WithTLS(p.clientConfig(false)), base.WithHandshakeTimeout(timeout), base.WithDialer(ln.dial))
			start := time.Now()
			err := c.Connect(context.Background(), tlsAddr)
			exactly(t, "the client's handshake", time.Since(start), timeout, "the handshake timeout")
			if !errors.Is(err, base.ErrHandshake) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Connect: %v, want ErrHandshake after the timeout", err)
			}
		})
	})
	t.Run("client context", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ln, _ := silentMemServer(t)
			c := base.NewClient(native.New, base.WithTLS(p.clientConfig(false)), base.WithDialer(ln.dial))
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			start := time.Now()
			err := c.Connect(ctx, tlsAddr)
			exactly(t, "Connect", time.Since(start), timeout, "its ctx's deadline")
			if !errors.Is(err, base.ErrHandshake) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Connect: %v", err)
			}
		})
	})
}

// TestTLSServerCloseDuringHandshake: closing a server does not wait for
// handshakes under way (it returns at once, in virtual time), raises no
// error event for them, and closes their connections.
func TestTLSServerCloseDuringHandshake(t *testing.T) {
	p := newPKI(t)
	synctest.Test(t, func(t *testing.T) {
		srvRec := newRecorder()
		srv := base.NewServer(native.New, srvRec.server(base.WithTLS(p.serverConfig(false)))...)
		ln := newMemListener()
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		conn, err := ln.dial(context.Background(), "", "")
		must(t, err)
		defer conn.Close()
		synctest.Wait() // the server waits in the handshake for the client's hello
		start := time.Now()
		srv.Close()
		if err := <-served; err != base.ErrServerClosed {
			t.Errorf("Serve: %v", err)
		}
		exactly(t, "Close during a handshake", time.Since(start), 0, "it does not wait for handshakes")
		synctest.Wait()
		select {
		case err := <-srvRec.errs:
			t.Errorf("error event %v", err)
		default:
		}
		must(t, conn.SetReadDeadline(time.Now().Add(waitTime)))
		if n, err := conn.Read(make([]byte, 1)); err == nil {
			t.Fatalf("read %d bytes from a connection the server should have closed", n)
		}
	})
}
