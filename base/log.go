package base

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// WithLogger logs the end's events to l, beside the hooks set for them: at
// info level sessions opening and closing (with the reason), and a
// client's connects, disconnects and reconnect attempts; at error level
// the error events (which still reach the OnError hook) and a client
// giving up reconnecting. Records name the peer: a server's session by id
// and address, a client's server by address. Without it nothing is
// logged. A nil l makes the end refuse to run with ErrInvalidOption.
func WithLogger(l *slog.Logger) Option {
	return option(func(c *config) {
		if l == nil {
			c.errs = append(c.errs, fmt.Errorf("%w: WithLogger(nil)", ErrInvalidOption))
			return
		}
		c.logger = l
	})
}

// peerAttr describes the peer of s for a log record: the group "peer"
// with a server's session id and the remote address; for a nil s, a
// client's missing connection, an empty address.
func peerAttr(s *Session) slog.Attr {
	switch {
	case s == nil:
		return slog.Group("peer", slog.String("addr", ""))
	case s.id == 0:
		return slog.Group("peer", slog.String("addr", addrOf(s.RemoteAddr())))
	}
	return slog.Group("peer", slog.Uint64("session", s.id), slog.String("addr", addrOf(s.RemoteAddr())))
}

func addrOf(a interface{ String() string }) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// logErrors wraps the error hook to log each error event first.
func (c *config) logErrors() {
	l, f := c.logger, c.onError
	c.onError = func(s *Session, err error) {
		if s == nil {
			l.LogAttrs(context.Background(), slog.LevelError, "netmessage error", slog.String("error", err.Error()))
		} else {
			l.LogAttrs(context.Background(), slog.LevelError, "netmessage error", peerAttr(s), slog.String("error", err.Error()))
		}
		if f != nil {
			f(s, err)
		}
	}
}

// logHooks wraps the server's hooks to log to its logger.
func (c *serverConfig) logHooks() {
	if c.logger != nil {
		c.logSessions("netmessage session opened", "netmessage session closed")
	}
}

// logSessions wraps the hooks of a session opening and closing, and the
// error hook, to log each event first, with the messages given.
func (c *config) logSessions(openedMsg, closedMsg string) {
	l, ctx := c.logger, context.Background()
	opened, closed := c.onOpened, c.onClosed
	c.onOpened = func(s *Session) {
		l.LogAttrs(ctx, slog.LevelInfo, openedMsg, peerAttr(s))
		if opened != nil {
			opened(s)
		}
	}
	c.onClosed = func(s *Session, reason CloseReason) {
		l.LogAttrs(ctx, slog.LevelInfo, closedMsg, peerAttr(s), slog.String("reason", reason.String()))
		if closed != nil {
			closed(s, reason)
		}
	}
	c.logErrors()
}

// logHooks wraps the client's hooks to log to its logger.
func (c *clientConfig) logHooks() {
	l := c.logger
	if l == nil {
		return
	}
	c.logSessions("netmessage connected", "netmessage disconnected")
	ctx := context.Background()
	reconnecting, reconnected, failed := c.onReconnecting, c.onReconnected, c.onReconnectFailed
	c.onReconnecting = func(attempt int, delay time.Duration, err error) {
		l.LogAttrs(ctx, slog.LevelInfo, "netmessage reconnecting",
			slog.Int("attempt", attempt), slog.Duration("delay", delay), slog.String("error", errText(err)))
		if reconnecting != nil {
			reconnecting(attempt, delay, err)
		}
	}
	c.onReconnected = func(s *Session) {
		l.LogAttrs(ctx, slog.LevelInfo, "netmessage reconnected", peerAttr(s))
		if reconnected != nil {
			reconnected(s)
		}
	}
	c.onReconnectFailed = func(err error) {
		l.LogAttrs(ctx, slog.LevelError, "netmessage reconnect failed", slog.String("error", errText(err)))
		if failed != nil {
			failed(err)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
