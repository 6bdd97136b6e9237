package netmessage

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/netmessage-go/netmessage/base"
)

// Router is where handlers are registered: a *Server (handlers receive the
// *Session) or a *Client (handlers receive the *Client).
type Router[P Peer] interface {
	router() *router[P]
}

// messageHandler is a registered message handler.
type messageHandler[P Peer] struct {
	id string // the type id
	// run decodes a message and calls the handler: the path without
	// inbound interceptors.
	run func(ctx context.Context, p P, body []byte) error
	// decode and call are the two halves of run, for the interceptors.
	decode func(body []byte) (any, error)
	call   func(ctx context.Context, p P, v any) error
}

// requestHandler is a registered request handler.
type requestHandler[P Peer] struct {
	id string // the type id
	// run decodes a request, calls the handler and encodes its answer:
	// the path without inbound interceptors.
	run func(ctx context.Context, p P, body []byte) []byte
	// decode, call and encode are the steps of run, for the interceptors.
	decode func(body []byte) (any, error)
	call   func(ctx context.Context, p P, v any) (any, error)
	encode func(resp any) ([]byte, error)
}

// router holds one endpoint's handlers by type id.
type router[P Peer] struct {
	ep       *endpoint
	mu       sync.RWMutex
	messages map[string]*messageHandler[P]
	requests map[string]*requestHandler[P]
}

func newRouter[P Peer](ep *endpoint) *router[P] {
	return &router[P]{ep: ep, messages: make(map[string]*messageHandler[P]), requests: make(map[string]*requestHandler[P])}
}

// HandleMessage registers f for messages of type M, replacing any handler
// for M. Messages reach their handlers one at a time, in the order the peer
// sent them. ctx ends when the connection closes. It fails if M has no
// usable type id.
func HandleMessage[M any, P Peer](r Router[P], f func(ctx context.Context, p P, msg M)) error {
	rt := r.router()
	id, err := rt.ep.types.id(reflect.TypeFor[M]())
	if err != nil {
		return err
	}
	ep := rt.ep
	var pool valuePool[M]
	decode := func(body []byte) (M, error) {
		msg, err := pool.unmarshal(ep.ser, body)
		if err != nil {
			return msg, fmt.Errorf("netmessage: %s unmarshal message %s: %w", ep.ser.Name(), id, err)
		}
		return msg, nil
	}
	h := &messageHandler[P]{
		id: id,
		run: func(ctx context.Context, p P, body []byte) error {
			msg, err := decode(body)
			if err != nil {
				return err
			}
			f(ctx, p, msg)
			return nil
		},
		decode: func(body []byte) (any, error) { return decode(body) },
		call: func(ctx context.Context, p P, v any) (err error) {
			msg, ok := v.(M)
			if !ok {
				return mismatch(id, v, msg)
			}
			defer func() {
				if v := recover(); v != nil {
					err = ep.panicked(p, v)
				}
			}()
			f(ctx, p, msg)
			return nil
		},
	}
	rt.mu.Lock()
	rt.messages[id] = h
	rt.mu.Unlock()
	return nil
}

// HandleRequest registers f for requests of type Req, replacing any handler
// for Req. f must answer with Req's response type (the compiler checks), or
// fail: its error reaches the caller as a *RemoteError with the code of a
// *RemoteError in the error's chain (see Errorf), CodeCanceled or
// CodeDeadlineExceeded for the context's errors, or else CodeHandler. A
// panic in f, or in decoding the request, is recovered, raised as an error
// event, and reaches the caller as a *RemoteError with CodePanic. Requests
// are handled concurrently; ctx ends when the connection closes.
func HandleRequest[Req RequestType[Resp], Resp any, P Peer](r Router[P], f func(ctx context.Context, p P, req Req) (Resp, error)) error {
	rt := r.router()
	reqID, err := rt.ep.types.id(reflect.TypeFor[Req]())
	if err != nil {
		return err
	}
	respID, err := rt.ep.types.id(reflect.TypeFor[Resp]())
	if err != nil {
		return err
	}
	ep := rt.ep
	var pool valuePool[Req]
	decode := func(body []byte) (Req, error) {
		req, err := pool.unmarshal(ep.ser, body)
		if err != nil {
			return req, fmt.Errorf("netmessage: %s unmarshal request %s: %w", ep.ser.Name(), reqID, err)
		}
		return req, nil
	}
	encode := func(resp any) ([]byte, error) {
		out, err := encodeOK(ep.ser, respID, resp)
		if err != nil {
			return nil, fmt.Errorf("response not sent: %w", err)
		}
		return out, nil
	}
	h := &requestHandler[P]{
		id: reqID,
		run: func(ctx context.Context, p P, body []byte) (out []byte) {
			// Recovered from decoding too (a serializer, or a type's own
			// decoding method, may panic on hostile input): the caller
			// gets an answer either way rather than waiting for its
			// timeout.
			defer func() {
				if v := recover(); v != nil {
					out = failure(ep.panicked(p, v))
				}
			}()
			req, err := decode(body)
			if err != nil {
				ep.report(p, err)
				return encodeFailure(statusBadRequest, err.Error())
			}
			resp, err := f(ctx, p, req)
			if err != nil {
				return failure(err)
			}
			out, err = encode(resp)
			if err != nil {
				ep.report(p, err)
				return encodeFailure(statusError, err.Error())
			}
			return out
		},
		decode: func(body []byte) (any, error) { return decode(body) },
		call: func(ctx context.Context, p P, v any) (_ any, err error) {
			req, ok := v.(Req)
			if !ok {
				return nil, mismatch(reqID, v, req)
			}
			defer func() {
				if v := recover(); v != nil {
					err = ep.panicked(p, v)
				}
			}()
			resp, err := f(ctx, p, req)
			if err != nil {
				return nil, err
			}
			return resp, nil
		},
		encode: func(v any) ([]byte, error) {
			if _, ok := v.(Resp); !ok {
				var want Resp
				return nil, fmt.Errorf("response not sent: an interceptor returned a %T for %s, want %T", v, reqID, want)
			}
			return encode(v) // v as it is: boxing it again would copy it
		},
	}
	rt.mu.Lock()
	rt.requests[reqID] = h
	rt.mu.Unlock()
	return nil
}

// mismatch is the error for an interceptor that passed on a value of
// another type than the call's (want is a zero value of it).
func mismatch(id string, got, want any) error {
	return fmt.Errorf("netmessage: an interceptor passed a %T for %s, want %T", got, id, want)
}

// valuePool holds zeroed values of a type for Unmarshal to fill, so that a
// decoded value is copied out of reused memory instead of allocated each
// time. Nothing outside unmarshal refers to a pooled value.
type valuePool[T any] struct{ p sync.Pool }

// unmarshal decodes data into a value of type T, as Unmarshal into a new
// zero T would.
func (vp *valuePool[T]) unmarshal(ser Serializer, data []byte) (T, error) {
	v, _ := vp.p.Get().(*T)
	if v == nil {
		v = new(T)
	}
	err := ser.Unmarshal(data, v)
	out := *v
	var zero T
	*v = zero
	vp.p.Put(v)
	return out, err
}

// RemoveHandler removes the message or request handler for type T and
// reports whether there was one. Packets of type T are then unhandled.
func RemoveHandler[T any, P Peer](r Router[P]) bool {
	rt := r.router()
	id, err := rt.ep.types.id(reflect.TypeFor[T]())
	if err != nil {
		return false
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	_, m := rt.messages[id]
	_, q := rt.requests[id]
	delete(rt.messages, id)
	delete(rt.requests, id)
	return m || q
}

// onMessage dispatches a received message payload.
func (rt *router[P]) onMessage(ctx context.Context, p P, payload []byte) {
	id, body, err := splitHeader(payload)
	if err != nil {
		rt.ep.report(p, err)
		return
	}
	rt.mu.RLock()
	h := rt.messages[string(id)]
	rt.mu.RUnlock()
	if rt.ep.inbound != nil {
		rt.interceptMessage(ctx, p, id, h, body)
		return
	}
	if h == nil {
		rt.ep.unhandled(p, base.KindMessage, string(id))
		return
	}
	if err := h.run(ctx, p, body); err != nil {
		rt.ep.report(p, err)
	}
}

// onRequest dispatches a received request payload and returns the response.
func (rt *router[P]) onRequest(ctx context.Context, p P, payload []byte) []byte {
	id, body, err := splitHeader(payload)
	if err != nil {
		rt.ep.report(p, err)
		return encodeFailure(statusBadRequest, err.Error())
	}
	rt.mu.RLock()
	h := rt.requests[string(id)]
	rt.mu.RUnlock()
	if rt.ep.inbound != nil {
		return rt.interceptRequest(ctx, p, id, h, body)
	}
	if h == nil {
		rt.ep.unhandled(p, base.KindRequest, string(id))
		return encodeFailure(statusUnhandled, "no handler for "+string(id))
	}
	return h.run(ctx, p, body)
}

// interceptMessage handles a message through the inbound interceptors; h
// is nil when the type has no handler.
func (rt *router[P]) interceptMessage(ctx context.Context, p P, rawID []byte, h *messageHandler[P], body []byte) {
	ep := rt.ep
	id := ""
	if h != nil {
		id = h.id // no allocation
	} else {
		id = string(rawID)
	}
	var (
		v        any
		raised   error // an error whose event next has raised
		err      error
		callNext Invoker
	)
	if h == nil {
		callNext = func(context.Context, any) (any, error) {
			ep.unhandled(p, base.KindMessage, id)
			raised = fmt.Errorf("%w: message %q", ErrUnhandled, id)
			return nil, raised
		}
	} else {
		if v, err = h.decode(body); err != nil {
			ep.report(p, err)
			return
		}
		callNext = func(ctx context.Context, v any) (any, error) {
			err := h.call(ctx, p, v)
			if isPanic(err) {
				raised = err
			}
			return nil, err
		}
	}
	_, err = ep.inbound(ctx, Call{Kind: base.KindMessage, TypeID: id, Peer: p}, v, callNext)
	if err != nil && (raised == nil || !errors.Is(err, raised)) {
		ep.report(p, err)
	}
}

// interceptRequest handles a request through the inbound interceptors and
// returns the response; h is nil when the type has no handler.
func (rt *router[P]) interceptRequest(ctx context.Context, p P, rawID []byte, h *requestHandler[P], body []byte) (out []byte) {
	ep := rt.ep
	id := ""
	if h != nil {
		id = h.id // no allocation
	} else {
		id = string(rawID)
	}
	// A panic in an interceptor, or in decoding, answers as a handler's
	// does.
	defer func() {
		if v := recover(); v != nil {
			out = failure(ep.panicked(p, v))
		}
	}()
	var (
		v        any
		err      error
		callNext Invoker
	)
	if h == nil {
		callNext = func(context.Context, any) (any, error) {
			ep.unhandled(p, base.KindRequest, id)
			return nil, &RemoteError{Code: CodeUnhandled, Message: "no handler for " + id}
		}
	} else {
		if v, err = h.decode(body); err != nil {
			ep.report(p, err)
			return encodeFailure(statusBadRequest, err.Error())
		}
		callNext = func(ctx context.Context, v any) (any, error) { return h.call(ctx, p, v) }
	}
	resp, err := ep.inbound(ctx, Call{Kind: base.KindRequest, TypeID: id, Peer: p}, v, callNext)
	if err != nil {
		return failure(err)
	}
	if h != nil {
		out, err = h.encode(resp)
	} else {
		// An interceptor answered a request that has no handler.
		out, err = ep.encodeAny(resp)
	}
	if err != nil {
		ep.report(p, err)
		return encodeFailure(statusError, err.Error())
	}
	return out
}
