package netmessage

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"github.com/netmessage-go/netmessage/base"
)

// messageHandler is a registered message handler.
type messageHandler struct {
	id string // the type id
	// run decodes a message and calls the handler: the path without
	// inbound interceptors.
	run func(ctx context.Context, s *base.Session, body []byte) error
	// decode and call are the two halves of run, for the interceptors.
	decode func(body []byte) (any, error)
	call   func(ctx context.Context, s *base.Session, v any) error
}

// requestHandler is a registered request handler.
type requestHandler struct {
	id string // the type id
	// run decodes a request, calls the handler and encodes its answer:
	// the path without inbound interceptors.
	run func(ctx context.Context, s *base.Session, body []byte) []byte
	// decode, call and encode are the steps of run, for the interceptors.
	decode func(body []byte) (any, error)
	call   func(ctx context.Context, s *base.Session, v any) (any, error)
	encode func(resp any) ([]byte, error)
}

// HandleMessage registers f for messages of type M, replacing any handler
// for M. Messages reach their handlers one at a time, in the order the peer
// sent them. ctx ends when the connection closes. It fails if M has no
// usable type id.
func HandleMessage[M any](m *Mux, f func(ctx context.Context, s *base.Session, msg M)) error {
	id, err := m.types.id(reflect.TypeFor[M]())
	if err != nil {
		return err
	}
	var pool valuePool[M]
	decode := func(body []byte) (M, error) {
		msg, err := pool.unmarshal(m.ser, body)
		if err != nil {
			return msg, fmt.Errorf("netmessage: %s unmarshal message %s: %w", m.ser.Name(), id, err)
		}
		return msg, nil
	}
	h := &messageHandler{
		id: id,
		run: func(ctx context.Context, s *base.Session, body []byte) error {
			msg, err := decode(body)
			if err != nil {
				return err
			}
			f(ctx, s, msg)
			return nil
		},
		decode: func(body []byte) (any, error) { return decode(body) },
		call: func(ctx context.Context, s *base.Session, v any) (err error) {
			msg, ok := v.(M)
			if !ok {
				return mismatch(id, v, msg)
			}
			defer func() {
				if v := recover(); v != nil {
					err = panicked(s, v)
				}
			}()
			f(ctx, s, msg)
			return nil
		},
	}
	m.setHandlers(func(t *handlerTable) { t.messages[id] = h })
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
func HandleRequest[Req RequestType[Resp], Resp any](m *Mux, f func(ctx context.Context, s *base.Session, req Req) (Resp, error)) error {
	reqID, err := m.types.id(reflect.TypeFor[Req]())
	if err != nil {
		return err
	}
	respID, err := m.types.id(reflect.TypeFor[Resp]())
	if err != nil {
		return err
	}
	var size sizeHint
	encode := func(resp any) ([]byte, error) {
		out, err := encodeOK(m.ser, respID, resp, size.get())
		if err != nil {
			return nil, fmt.Errorf("response not sent: %w", err)
		}
		size.record(len(out))
		return out, nil
	}
	// Requests are decoded, and on the path without interceptors their
	// responses encoded, in the memory of a pooled served (see boxer).
	var states sync.Pool
	getState := func() *served[Req, Resp] {
		st, _ := states.Get().(*served[Req, Resp])
		if st == nil {
			st = new(served[Req, Resp])
		}
		return st
	}
	// unmarshal decodes body into st.req and returns it, st.req zeroed.
	unmarshal := func(st *served[Req, Resp], body []byte) (Req, error) {
		err := m.ser.Unmarshal(body, &st.req)
		req := st.req
		var zero Req
		st.req = zero
		if err != nil {
			return req, fmt.Errorf("netmessage: %s unmarshal request %s: %w", m.ser.Name(), reqID, err)
		}
		return req, nil
	}
	decode := func(body []byte) (Req, error) {
		st := getState()
		req, err := unmarshal(st, body)
		states.Put(st)
		return req, err
	}
	box := newBoxer[Resp]()
	h := &requestHandler{
		id: reqID,
		run: func(ctx context.Context, s *base.Session, body []byte) (out []byte) {
			// Recovered from decoding too (a serializer, or a type's own
			// decoding method, may panic on hostile input): the caller
			// gets an answer either way rather than waiting for its
			// timeout.
			defer func() {
				if v := recover(); v != nil {
					out = failure(panicked(s, v))
				}
			}()
			st := getState()
			req, err := unmarshal(st, body)
			if err != nil {
				states.Put(st)
				s.ReportError(err)
				return encodeFailure(statusBadRequest, err.Error())
			}
			resp, err := f(ctx, s, req)
			if err != nil {
				states.Put(st)
				return failure(err)
			}
			st.resp = resp
			out, err = encode(box.of(&st.resp))
			if err != nil { // st is not reused: the error may refer to st.resp
				s.ReportError(err)
				return encodeFailure(statusError, err.Error())
			}
			var zero Resp
			st.resp = zero
			states.Put(st)
			return out
		},
		decode: func(body []byte) (any, error) { return decode(body) },
		call: func(ctx context.Context, s *base.Session, v any) (_ any, err error) {
			req, ok := v.(Req)
			if !ok {
				return nil, mismatch(reqID, v, req)
			}
			defer func() {
				if v := recover(); v != nil {
					err = panicked(s, v)
				}
			}()
			resp, err := f(ctx, s, req)
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
	m.setHandlers(func(t *handlerTable) { t.requests[reqID] = h })
	return nil
}

// mismatch is the error for an interceptor that passed on a value of
// another type than the call's (want is a zero value of it).
func mismatch(id string, got, want any) error {
	return fmt.Errorf("netmessage: an interceptor passed a %T for %s, want %T", got, id, want)
}

// served is the memory of a request handled without interceptors: the
// value it is decoded into, and the response handed to the serializer.
type served[Req, Resp any] struct {
	req  Req
	resp Resp
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
func RemoveHandler[T any](m *Mux) bool {
	id, err := m.types.id(reflect.TypeFor[T]())
	if err != nil {
		return false
	}
	var msg, req bool
	m.setHandlers(func(t *handlerTable) {
		_, msg = t.messages[id]
		_, req = t.requests[id]
		delete(t.messages, id)
		delete(t.requests, id)
	})
	return msg || req
}
