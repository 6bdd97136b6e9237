package netmessage

import (
	"context"
	"fmt"
	"reflect"
	"runtime/debug"
	"sync"

	"github.com/netmessage-go/netmessage/base"
)

// Router is where handlers are registered: a *Server (handlers receive the
// *Session) or a *Client (handlers receive the *Client).
type Router[P Peer] interface {
	router() *router[P]
}

type messageFunc[P Peer] func(ctx context.Context, p P, body []byte) error
type requestFunc[P Peer] func(ctx context.Context, p P, body []byte) []byte

// router holds one endpoint's handlers by type id.
type router[P Peer] struct {
	ep       *endpoint
	mu       sync.RWMutex
	messages map[string]messageFunc[P]
	requests map[string]requestFunc[P]
}

func newRouter[P Peer](ep *endpoint) *router[P] {
	return &router[P]{ep: ep, messages: make(map[string]messageFunc[P]), requests: make(map[string]requestFunc[P])}
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
	ser := rt.ep.ser
	var pool valuePool[M]
	h := func(ctx context.Context, p P, body []byte) error {
		msg, err := pool.unmarshal(ser, body)
		if err != nil {
			return fmt.Errorf("netmessage: %s unmarshal message %s: %w", ser.Name(), id, err)
		}
		f(ctx, p, msg)
		return nil
	}
	rt.mu.Lock()
	rt.messages[id] = h
	rt.mu.Unlock()
	return nil
}

// HandleRequest registers f for requests of type Req, replacing any handler
// for Req. f must answer with Req's response type (the compiler checks), or
// fail: its error reaches the caller as a *RemoteError with CodeHandler. A
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
	h := func(ctx context.Context, p P, body []byte) (out []byte) {
		// Recovered from decoding too (a serializer, or a type's own
		// decoding method, may panic on hostile input): the caller gets
		// an answer either way rather than waiting for its timeout.
		defer func() {
			if v := recover(); v != nil {
				ep.report(p, &base.PanicError{Value: v, Stack: debug.Stack()})
				out = encodeFailure(statusPanic, fmt.Sprint(v))
			}
		}()
		req, err := pool.unmarshal(ep.ser, body)
		if err != nil {
			err = fmt.Errorf("netmessage: %s unmarshal request %s: %w", ep.ser.Name(), reqID, err)
			ep.report(p, err)
			return encodeFailure(statusBadRequest, err.Error())
		}
		resp, err := f(ctx, p, req)
		if err != nil {
			return encodeFailure(statusError, err.Error())
		}
		out, err = encodeOK(ep.ser, respID, resp)
		if err != nil {
			ep.report(p, err)
			return encodeFailure(statusError, "response not sent: "+err.Error())
		}
		return out
	}
	rt.mu.Lock()
	rt.requests[reqID] = h
	rt.mu.Unlock()
	return nil
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
	h, ok := rt.messages[string(id)]
	rt.mu.RUnlock()
	if !ok {
		rt.ep.unhandled(p, base.KindMessage, string(id))
		return
	}
	if err := h(ctx, p, body); err != nil {
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
	h, ok := rt.requests[string(id)]
	rt.mu.RUnlock()
	if !ok {
		rt.ep.unhandled(p, base.KindRequest, string(id))
		return encodeFailure(statusUnhandled, "no handler for "+string(id))
	}
	return h(ctx, p, body)
}
