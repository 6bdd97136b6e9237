package netmessage

import (
	"context"
	"errors"
	"slices"

	"github.com/netmessage-go/netmessage/base"
)

// Call describes the call an interceptor wraps. Interceptors get it by
// value: what one sees, the next sees too.
type Call struct {
	// Kind is base.KindRequest or base.KindMessage.
	Kind base.Kind
	// TypeID is the type id of the request or message.
	TypeID string
	// Session is the connection the packet came from (inbound) or goes to
	// (outbound; for a client, its current connection when the call
	// began, see base.Client.Session, which a retry may replace). It is
	// nil for a Broadcast, and for a client that never connected.
	Session *base.Session

	// broadcast is set for a Broadcast, to tell its nil Session from
	// that of a client that never connected.
	broadcast bool
}

// Invoker carries a call on: the next interceptor, or in the end the
// handler (inbound) or the send (outbound). v is the request or message
// (an interceptor may pass another value of the same type); for a request,
// the result is its response.
type Invoker func(ctx context.Context, v any) (any, error)

// Interceptor wraps calls: received ones (WithInbound) or sent ones
// (WithOutbound). It may inspect or change ctx and v before calling next,
// return without calling it (to reject the call), call it more than once
// (to retry an outbound call), and inspect the result and error after it.
// For a message, the result is nil. Inbound, an error it returns goes to
// a request's caller as a *RemoteError (see Errorf), and for a message is
// an error event, raised once; message interceptors run on the dispatcher,
// one message at a time. What v and next are for a type without a handler,
// a handler's panic or a payload that cannot be decoded: docs/calls.md
// ("Inbound").
type Interceptor func(ctx context.Context, call Call, v any, next Invoker) (any, error)

// WithInbound adds interceptors around the handling of every received
// request and message. The first one given (over all WithInbound options,
// in order) is the outermost: it runs first and sees the others' outcome,
// as in gRPC's interceptor chains.
func WithInbound(ics ...Interceptor) Option {
	return option(func(c *config) { c.inbound = addInterceptors(c, c.inbound, ics) })
}

// WithOutbound adds interceptors around every Request and Send, and around
// a Broadcast (once for all its sessions, with a nil Call.Session). The
// first one given is the outermost. To add metadata to a call, pass next a
// context from base.AppendMetadata.
func WithOutbound(ics ...Interceptor) Option {
	return option(func(c *config) { c.outbound = addInterceptors(c, c.outbound, ics) })
}

func addInterceptors(c *config, list, ics []Interceptor) []Interceptor {
	for _, ic := range ics {
		if ic == nil {
			c.errs = append(c.errs, errors.New("netmessage: nil interceptor"))
			return list
		}
	}
	return append(list, ics...)
}

// chain returns the interceptor that runs ics in order, the first
// outermost, or nil for none.
func chain(ics []Interceptor) Interceptor {
	switch len(ics) {
	case 0:
		return nil
	case 1:
		return ics[0]
	}
	ics = slices.Clone(ics)
	return func(ctx context.Context, call Call, v any, next Invoker) (any, error) {
		return ics[0](ctx, call, v, link(ics[1:], call, next))
	}
}

// link returns the invoker that runs ics, then next.
func link(ics []Interceptor, call Call, next Invoker) Invoker {
	if len(ics) == 0 {
		return next
	}
	return func(ctx context.Context, v any) (any, error) {
		return ics[0](ctx, call, v, link(ics[1:], call, next))
	}
}
