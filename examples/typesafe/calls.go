package main

import (
	"context"
	"crypto/subtle"
	"log/slog"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
)

// settings are what both ends of the example share besides their handlers.
type settings struct {
	ser netmessage.Serializer
	// token is a shared secret: each end sends it with every call and
	// refuses calls without it.
	token string
	// logger, if set, logs sessions, errors and (at debug level) each call.
	logger *slog.Logger
}

// options returns the netmessage options for s.
func (s settings) options() []netmessage.Option {
	opts := []netmessage.Option{
		netmessage.WithSerializer(s.ser),
		netmessage.WithInbound(requireToken(s.token)),
		netmessage.WithOutbound(attachToken(s.token)),
	}
	if s.logger != nil {
		opts = append(opts, netmessage.WithLogger(s.logger))
	}
	return opts
}

// mux returns a Mux with s's options and the example's handlers (see
// register); who names the end in the output.
func (s settings) mux(out *printer, who string) (*netmessage.Mux, error) {
	m, err := netmessage.NewMux(s.options()...)
	if err != nil {
		return nil, err
	}
	if err := register(m, out, who); err != nil {
		return nil, err
	}
	return m, nil
}

// tokenKey is the metadata key of the token.
const tokenKey = "authorization"

// requireToken returns an inbound interceptor that refuses every call whose
// metadata does not carry token, before any handler runs (also for types
// without a handler). The caller gets a *netmessage.RemoteError with
// CodeUnauthenticated; a refused message raises an error event here.
func requireToken(token string) netmessage.Interceptor {
	return func(ctx context.Context, call netmessage.Call, v any, next netmessage.Invoker) (any, error) {
		got := base.IncomingMetadata(ctx)[tokenKey]
		if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			return nil, netmessage.Errorf(netmessage.CodeUnauthenticated, "%s %s: missing or wrong token", call.Kind, call.TypeID)
		}
		return next(ctx, v)
	}
}

// attachToken returns an outbound interceptor that adds token to each
// call's metadata, unless the call's context already has one.
func attachToken(token string) netmessage.Interceptor {
	return func(ctx context.Context, call netmessage.Call, v any, next netmessage.Invoker) (any, error) {
		if _, ok := base.OutgoingMetadata(ctx)[tokenKey]; !ok {
			ctx = base.AppendMetadata(ctx, tokenKey, token)
		}
		return next(ctx, v)
	}
}
