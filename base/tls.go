package base

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"
)

// ErrHandshake matches the error of a failed TLS handshake: returned by
// Client.Connect, and reported by a server as an error event (a *CloseError
// with ReasonAcceptError and a nil Session). The error says why: a timeout, a
// certificate the other end rejected, or an end that does not speak TLS.
var ErrHandshake = errors.New("netmessage: TLS handshake failed")

// WithTLS makes the connections TLS connections configured by cfg; nil,
// the default, means plain TCP. A server wraps each accepted connection
// with tls.Server, a client each dialed one with tls.Client (verifying the
// host it dialed when cfg.ServerName is empty), and the handshake
// completes, within the handshake timeout (and Connect's context), before
// the session opens. A failed handshake fails Connect with an error
// matching ErrHandshake; a server closes that connection and raises an
// error event matching ErrHandshake with a nil Session. What cfg needs,
// mutual TLS and connections that are already *tls.Conn: docs/tls.md.
func WithTLS(cfg *tls.Config) Option {
	return option(func(c *config) { c.tls = cfg })
}

// WithHandshakeTimeout bounds the TLS handshake of each connection (default
// 10 s): on a server from the accept, on a client within Connect's context.
// It also bounds each reconnect attempt (dial and handshake, TLS or not; see
// WithReconnect). It does not apply to a plain Connect, whose context bounds
// it, nor to a plain server's connections, whose silent peers the receive
// timeout closes. d <= 0 keeps the default.
func WithHandshakeTimeout(d time.Duration) Option {
	return option(func(c *config) {
		if d > 0 {
			c.handshakeTimeout = d
		}
	})
}

// tlsAlertUnexpectedMessage is a TLS alert record (fatal, unexpected_message)
// sent to a client that did not start with a TLS handshake, so that its
// protocol can tell the user the server speaks TLS.
var tlsAlertUnexpectedMessage = []byte{0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x0a}

// acceptTLS wraps an accepted connection per WithTLS and completes its TLS
// handshake. A connection that is not TLS is returned as is.
func (srv *Server) acceptTLS(conn net.Conn) (net.Conn, error) {
	if cfg := srv.cfg.tls; cfg != nil {
		if _, ok := conn.(*tls.Conn); !ok {
			conn = tls.Server(conn, cfg)
		}
	}
	tc, ok := conn.(*tls.Conn)
	if !ok {
		return conn, nil
	}
	err := handshake(context.Background(), tc, srv.cfg.handshakeTimeout)
	if err == nil {
		return tc, nil
	}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) && rh.Conn != nil {
		_ = rh.Conn.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = rh.Conn.Write(tlsAlertUnexpectedMessage)
		err = fmt.Errorf("the client does not speak TLS (its first bytes: %q)", rh.RecordHeader[:])
	}
	return nil, fmt.Errorf("%w with %s: %w", ErrHandshake, conn.RemoteAddr(), err)
}

// dialTLS wraps a dialed connection per WithTLS and completes its TLS
// handshake within ctx. On failure it closes conn.
func (c *Client) dialTLS(ctx context.Context, conn net.Conn, addr string) (net.Conn, error) {
	if cfg := c.cfg.tls; cfg != nil {
		if _, ok := conn.(*tls.Conn); !ok {
			if cfg.ServerName == "" {
				if host, _, err := net.SplitHostPort(addr); err == nil {
					cfg = cfg.Clone()
					cfg.ServerName = host
				}
			}
			conn = tls.Client(conn, cfg)
		}
	}
	tc, ok := conn.(*tls.Conn)
	if !ok {
		return conn, nil
	}
	err := handshake(ctx, tc, c.cfg.handshakeTimeout)
	if err == nil {
		return tc, nil
	}
	tc.Close()
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		err = fmt.Errorf("the server does not speak TLS (its first bytes: %q)", rh.RecordHeader[:])
	}
	return nil, fmt.Errorf("%w with %s: %w", ErrHandshake, addr, err)
}

// handshake completes tc's handshake within ctx and timeout.
func handshake(ctx context.Context, tc *tls.Conn, timeout time.Duration) error {
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := tc.HandshakeContext(hctx)
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no handshake within %v: %w", timeout, err)
	}
	return err
}
