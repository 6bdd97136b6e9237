package netmessage

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/netmessage-go/netmessage/base"
)

// WithLogger logs each call at debug level, received and sent, with its
// kind, type id, peer, duration and outcome, as structured attributes. The
// ends that NewServer and NewClient build also log their sessions and
// error events to l (see base.WithLogger), the typed layer's errors
// included. Without it nothing is logged. The records, their attributes
// and where the logging interceptor sits: docs/calls.md ("Logging").
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
			peerAttr(call),
			slog.Duration("duration", d),
			slog.String("outcome", outcome(dir, call.Kind, err)),
		)
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		l.LogAttrs(ctx, slog.LevelDebug, "netmessage call", attrs...)
		return resp, err
	}
}

// outcome names the result of a call for the log: the code a caller gets
// or got (see codeOf), and "error" for a failure of this end's own that
// carries no code (a closed connection, say), except on a received
// request, whose caller gets CodeHandler for it.
func outcome(dir string, kind base.Kind, err error) string {
	if err == nil {
		return "ok"
	}
	code, _ := codeOf(err)
	var re *RemoteError
	if code == CodeHandler && !(dir == "in" && kind == base.KindRequest) && !errors.As(err, &re) {
		return "error"
	}
	return code.String()
}

// peerAttr describes the peer of call for the log as base.WithLogger
// does: a server's session by id and address, a client's connection by its
// server's address; a broadcast, and a client that never connected, as
// such.
func peerAttr(call Call) slog.Attr {
	s := call.Session
	switch {
	case call.broadcast:
		return slog.String("peer", "broadcast")
	case s == nil:
		return slog.String("peer", "not connected")
	case s.ID() == 0:
		return slog.Group("peer", slog.String("addr", addrOf(s.RemoteAddr())))
	}
	return slog.Group("peer", slog.Uint64("session", s.ID()), slog.String("addr", addrOf(s.RemoteAddr())))
}

func addrOf(a interface{ String() string }) string {
	if a == nil {
		return ""
	}
	return a.String()
}
