package netmessage

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"

	"github.com/netmessage-go/netmessage/base"
)

// endpoint is what a Server and a Client share: the serializer, the type
// ids and the diagnostic hooks.
type endpoint struct {
	ser         Serializer
	types       *registry
	onError     func(Peer, error)
	onUnhandled func(Peer, base.Kind, string)
	// inbound and outbound are the interceptor chains, nil without
	// interceptors: the paths without them do not box values.
	inbound  Interceptor
	outbound Interceptor
}

func newEndpoint(c *config) (*endpoint, error) {
	if err := errors.Join(c.errs...); err != nil {
		return nil, err
	}
	if c.ser == nil {
		return nil, fmt.Errorf("netmessage: nil serializer")
	}
	if c.proto == nil {
		return nil, fmt.Errorf("netmessage: nil protocol")
	}
	inbound, outbound, onError := c.inbound, c.outbound, c.onError
	if c.logger != nil {
		// Outermost, to time the whole call and log what the caller sees.
		inbound = append([]Interceptor{logCalls(c.logger, "in")}, inbound...)
		outbound = append([]Interceptor{logCalls(c.logger, "out")}, outbound...)
		onError = logErrors(c.logger, onError)
	}
	ep := &endpoint{
		ser:         c.ser,
		types:       newRegistry(),
		onError:     onError,
		onUnhandled: c.onUnhandled,
		inbound:     chain(inbound),
		outbound:    chain(outbound),
	}
	for _, e := range c.ids {
		if err := ep.types.setExplicit(e.t, e.id); err != nil {
			return nil, err
		}
	}
	return ep, nil
}

// decodeCost returns the transport option that counts received payloads
// with ser's decode bound, or nil when ser has none.
func decodeCost(ser Serializer) base.Option {
	if b, ok := ser.(DecodeBounder); ok {
		perByte, fixed := b.DecodeBound()
		return base.WithDecodeCost(perByte, fixed)
	}
	return nil
}

// report raises an error event. A panic in the error hook is dropped, as
// base drops it: the typed layer reports from paths that must go on to
// answer a request.
func (ep *endpoint) report(p Peer, err error) {
	if ep.onError != nil {
		defer func() { _ = recover() }()
		ep.onError(p, err)
	}
}

// panicked raises an error event for the panic value v of a handler and
// returns the error its caller gets.
func (ep *endpoint) panicked(p Peer, v any) error {
	ep.report(p, &base.PanicError{Value: v, Stack: debug.Stack()})
	return &RemoteError{Code: CodePanic, Message: fmt.Sprint(v)}
}

// isPanic reports whether err is the error of panicked.
func isPanic(err error) bool {
	re, ok := err.(*RemoteError)
	return ok && re.Code == CodePanic
}

// unhandled raises an unhandled event, or without the hook, for a message,
// an error event. A panic in the hook is raised as an error event, so that
// the refusal still reaches a request's caller.
func (ep *endpoint) unhandled(p Peer, kind base.Kind, id string) {
	if ep.onUnhandled == nil {
		if kind == base.KindMessage {
			ep.report(p, fmt.Errorf("%w: message %q dropped", ErrUnhandled, id))
		}
		return
	}
	defer func() {
		if v := recover(); v != nil {
			ep.report(p, &base.PanicError{Value: v, Stack: debug.Stack()})
		}
	}()
	ep.onUnhandled(p, kind, id)
}

// appendValue appends the message or request payload for v to dst.
func (ep *endpoint) appendValue(dst []byte, v any) ([]byte, error) {
	t, err := packetType(v)
	if err != nil {
		return dst, err
	}
	id, err := ep.types.id(t)
	if err != nil {
		return dst, err
	}
	return appendPayload(dst, ep.ser, id, v)
}

// typeID returns the type id of v, a value to send.
func (ep *endpoint) typeID(v any) (string, error) {
	t, err := packetType(v)
	if err != nil {
		return "", err
	}
	return ep.types.id(t)
}

// encodeAny returns a success response payload for v.
func (ep *endpoint) encodeAny(v any) ([]byte, error) {
	id, err := ep.typeID(v)
	if err != nil {
		return nil, fmt.Errorf("response not sent: %w", err)
	}
	out, err := encodeOK(ep.ser, id, v)
	if err != nil {
		return nil, fmt.Errorf("response not sent: %w", err)
	}
	return out, nil
}

// send sends msg as a message to p, through the outbound interceptors.
func (ep *endpoint) send(ctx context.Context, p Peer, msg any) error {
	if ep.outbound != nil {
		return ep.intercept(ctx, base.KindMessage, p, msg, func(ctx context.Context, v any) (any, error) {
			s, _, err := p.conn()
			if err != nil {
				return nil, err
			}
			return nil, ep.sendOn(ctx, s, v)
		})
	}
	s, _, err := p.conn()
	if err != nil {
		return err
	}
	return ep.sendOn(ctx, s, msg)
}

// intercept runs the outbound interceptors for a message (or broadcast)
// with the last step next.
func (ep *endpoint) intercept(ctx context.Context, kind base.Kind, p Peer, v any, next Invoker) error {
	id, err := ep.typeID(v)
	if err != nil {
		return err
	}
	_, err = ep.outbound(ctx, Call{Kind: kind, TypeID: id, Peer: p}, v, next)
	return err
}

// sendOn sends msg as a message on s.
func (ep *endpoint) sendOn(ctx context.Context, s *base.Session, msg any) error {
	b := getBuffer()
	payload, err := ep.appendValue(*b, msg)
	if err == nil {
		err = s.SendMessage(ctx, payload) // copies payload
	}
	putBuffer(b, payload)
	return err
}

// Request sends req to p and returns its typed response. The response type
// comes from req's type (see Returns), so no type argument or assertion is
// needed:
//
//	resp, err := netmessage.Request(ctx, client, WeatherRequest{City: "Bonn"})
//
// It fails with the peer's *RemoteError, with base.ErrRequestTimeout after
// the response timeout, with ctx's error, or with the connection's
// *base.CloseError when it closes first (base.ErrClosed when a graceful
// disconnect had already begun: nothing was sent). A response type without
// a usable id fails it with ErrTypeID before anything is sent. The outbound
// interceptors (WithOutbound) wrap the call.
func Request[Req RequestType[Resp], Resp any](ctx context.Context, p Peer, req Req) (Resp, error) {
	var resp Resp
	s, ep, err := p.conn()
	if ep != nil && ep.outbound != nil {
		return interceptRequest[Req](ctx, p, ep, req)
	}
	if err != nil {
		return resp, err
	}
	// The response type must have an id before anything is sent: a
	// request the peer ran must not then fail for a local reason.
	want, err := ep.types.id(reflect.TypeFor[Resp]())
	if err != nil {
		return resp, err
	}
	err = ep.roundTrip(ctx, s, req, &resp, want)
	return resp, err
}

// interceptRequest is Request through the outbound interceptors.
func interceptRequest[Req RequestType[Resp], Resp any](ctx context.Context, p Peer, ep *endpoint, req Req) (Resp, error) {
	var zero Resp
	want, err := ep.types.id(reflect.TypeFor[Resp]())
	if err != nil {
		return zero, err
	}
	var v any = req // boxed once
	id, err := ep.typeID(v)
	if err != nil {
		return zero, err
	}
	out, err := ep.outbound(ctx, Call{Kind: base.KindRequest, TypeID: id, Peer: p}, v, func(ctx context.Context, v any) (any, error) {
		s, _, err := p.conn()
		if err != nil {
			return nil, err
		}
		var resp Resp
		if err := ep.roundTrip(ctx, s, v, &resp, want); err != nil {
			return nil, err
		}
		return resp, nil
	})
	if err != nil {
		return zero, err
	}
	resp, ok := out.(Resp)
	if !ok {
		return zero, fmt.Errorf("netmessage: an interceptor returned a %T for %s, want %T", out, id, zero)
	}
	return resp, nil
}

// roundTrip sends req on s and decodes its response, whose type id must be
// want, into resp.
func (ep *endpoint) roundTrip(ctx context.Context, s *base.Session, req, resp any, want string) error {
	b := getBuffer()
	payload, err := ep.appendValue(*b, req)
	if err != nil {
		putBuffer(b, payload)
		return err
	}
	// The response gets a buffer of its own: a peer may answer (wrongly)
	// before base has copied the request, and that must not touch it.
	rb := getBuffer()
	raw, err := s.RequestAppend(ctx, *rb, payload)
	putBuffer(b, payload)
	if err == nil {
		err = ep.decodeResponse(raw, resp, want)
	}
	putBuffer(rb, raw)
	return err
}

// decodeResponse decodes a response payload whose type id must be want
// into resp. Nothing it returns refers to raw.
func (ep *endpoint) decodeResponse(raw []byte, resp any, want string) error {
	id, body, err := decodeResponse(raw)
	if err != nil {
		return err
	}
	if string(id) != want {
		return fmt.Errorf("%w: response is a %q, want %q", ErrMalformed, id, want)
	}
	if err := ep.ser.Unmarshal(body, resp); err != nil {
		return fmt.Errorf("netmessage: %s unmarshal response %s: %w", ep.ser.Name(), want, err)
	}
	return nil
}
