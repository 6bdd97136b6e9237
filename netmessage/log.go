package netmessage

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/netmessage-go/netmessage/base"
)

// WithLogger logs to l: at info level sessions opening and closing (with
// the reason) and a client's connects and reconnects, at error level the
// error events (the OnError hook's errors, which still reach that hook),
// and at debug level each call, received and sent, with its kind, type id,
// peer, duration and outcome ("ok" or the failure's ErrorCode name, or
// "error" for a local failure), as structured attributes. Without it
// nothing is logged.
//
// The calls are logged by an interceptor placed outside those of
// WithInbound and WithOutbound, so it times them too and logs the outcome
// the caller sees. When l does not log debug records, it adds only the
// interceptors' cost to each call.
func WithLogger(l *slog.Logger) Option {
	return option(func(c *config) {
		if l == nil {
			c.errs = append(c.errs, errors.New("netmessage: nil logger"))
			return
		}
		c.logger = l
	})
}

// logCalls returns the interceptor that logs each call at debug level; dir
// is "in" or "out".
func logCalls(l *slog.Logger, dir string) Interceptor {
	return func(ctx context.Context, call Call, v any, next Invoker) (any, error) {
		if !l.Enabled(ctx, slog.LevelDebug) {
			return next(ctx, v)
		}
		start := time.Now()
		resp, err := next(ctx, v)
		d := time.Since(start)
		attrs := make([]slog.Attr, 0, 7)
		attrs = append(attrs,
			slog.String("dir", dir),
			slog.String("kind", call.Kind.String()),
			slog.String("type", call.TypeID),
			peerAttr(call.Peer),
			slog.Duration("duration", d),
			slog.String("outcome", outcome(err)),
		)
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		l.LogAttrs(ctx, slog.LevelDebug, "netmessage call", attrs...)
		return resp, err
	}
}

// outcome names the result of a call for the log.
func outcome(err error) string {
	var re *RemoteError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &re):
		code, _ := codeOf(re)
		return code.String()
	case errors.Is(err, context.Canceled):
		return CodeCanceled.String()
	case errors.Is(err, context.DeadlineExceeded):
		return CodeDeadlineExceeded.String()
	}
	return "error"
}

// peerAttr describes p for the log: a session's id and address, or a
// client's server address.
func peerAttr(p Peer) slog.Attr {
	switch p := p.(type) {
	case *Session:
		return slog.Group("peer", slog.Uint64("session", p.ID()), slog.String("addr", addrOf(p.RemoteAddr())))
	case *Client:
		if s, err := p.c.ActiveSession(); err == nil {
			return slog.Group("peer", slog.String("addr", addrOf(s.RemoteAddr())))
		}
		return slog.Group("peer", slog.String("addr", ""))
	case nil:
		return slog.String("peer", "broadcast")
	}
	return slog.Any("peer", p)
}

func addrOf(a interface{ String() string }) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// logErrors returns the error hook that logs err at error level, then calls
// f, if set.
func logErrors(l *slog.Logger, f func(Peer, error)) func(Peer, error) {
	return func(p Peer, err error) {
		if p == nil {
			l.LogAttrs(context.Background(), slog.LevelError, "netmessage error", slog.String("error", err.Error()))
		} else {
			l.LogAttrs(context.Background(), slog.LevelError, "netmessage error", peerAttr(p), slog.String("error", err.Error()))
		}
		if f != nil {
			f(p, err)
		}
	}
}

// logHooks wraps the server's hooks to log to the configured logger.
func (c *serverConfig) logHooks() {
	l := c.logger
	if l == nil {
		return
	}
	ctx := context.Background()
	opened, closed := c.onOpened, c.onClosed
	c.onOpened = func(s *Session) {
		l.LogAttrs(ctx, slog.LevelInfo, "netmessage session opened", peerAttr(s))
		if opened != nil {
			opened(s)
		}
	}
	c.onClosed = func(s *Session, reason base.CloseReason) {
		l.LogAttrs(ctx, slog.LevelInfo, "netmessage session closed", peerAttr(s), slog.String("reason", reason.String()))
		if closed != nil {
			closed(s, reason)
		}
	}
}

// logHooks wraps the client's hooks to log to the configured logger.
func (c *clientConfig) logHooks() {
	l := c.logger
	if l == nil {
		return
	}
	ctx := context.Background()
	connected, closed := c.onConnected, c.onClosed
	reconnecting, reconnected, failed := c.onReconnecting, c.onReconnected, c.onReconnectFailed
	c.onConnected = func(cl *Client) {
		l.LogAttrs(ctx, slog.LevelInfo, "netmessage connected", peerAttr(cl))
		if connected != nil {
			connected(cl)
		}
	}
	c.onClosed = func(cl *Client, reason base.CloseReason) {
		l.LogAttrs(ctx, slog.LevelInfo, "netmessage disconnected", slog.String("reason", reason.String()))
		if closed != nil {
			closed(cl, reason)
		}
	}
	c.onReconnecting = func(cl *Client, attempt int, delay time.Duration, err error) {
		l.LogAttrs(ctx, slog.LevelInfo, "netmessage reconnecting",
			slog.Int("attempt", attempt), slog.Duration("delay", delay), slog.String("error", errText(err)))
		if reconnecting != nil {
			reconnecting(cl, attempt, delay, err)
		}
	}
	c.onReconnected = func(cl *Client) {
		l.LogAttrs(ctx, slog.LevelInfo, "netmessage reconnected", peerAttr(cl))
		if reconnected != nil {
			reconnected(cl)
		}
	}
	c.onReconnectFailed = func(cl *Client, err error) {
		l.LogAttrs(ctx, slog.LevelError, "netmessage reconnect failed", slog.String("error", errText(err)))
		if failed != nil {
			failed(cl, err)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
