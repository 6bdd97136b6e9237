package netmessage

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"

	"github.com/netmessage-go/netmessage/base"
)

// Peer is where Request and Send go: a *base.Session (a server's session,
// or the one a handler got), or a *base.Client, whose open connection they
// use. Either finds its Mux through its base.Handler.
type Peer interface {
	*base.Session | *base.Client
}

// target is a Peer found out: its Mux, and its session or client.
type target struct {
	m *Mux
	s *base.Session
	c *base.Client
}

// errNilPeer is the error of a call on a nil session or client.
var errNilPeer = errors.New("netmessage: nil session or client")

func resolve[P Peer](p P) (target, error) {
	var (
		t   target
		err error
	)
	switch p := any(p).(type) {
	case *base.Session:
		if p == nil {
			return t, errNilPeer
		}
		t.s = p
		t.m, err = muxOf(p.Handler())
	case *base.Client:
		if p == nil {
			return t, errNilPeer
		}
		t.c = p
		t.m, err = muxOf(p.Handler())
	}
	return t, err
}

// conn returns the session to send on: the session, or the client's open
// connection, or the error of base.Client.ActiveSession: base.ErrNotConnected,
// with the close error of the last connection if there was one.
func (t target) conn() (*base.Session, error) {
	if t.c != nil {
		return t.c.ActiveSession()
	}
	return t.s, nil
}

// session returns the session a call names (see Call.Session): the
// session, or the client's current connection, nil before its first.
func (t target) session() *base.Session {
	if t.c != nil {
		return t.c.Session()
	}
	return t.s
}

// Send sends msg, a value of a struct type, as a one-way message to p,
// through the outbound interceptors (WithOutbound); see
// base.Session.SendMessage for what a nil error promises. On a client
// without an open connection it fails at once with an error matching
// base.ErrNotConnected.
func Send[P Peer](ctx context.Context, p P, msg any) error {
	t, err := resolve(p)
	if err != nil {
		return err
	}
	m := t.m
	if m.outbound != nil {
		return m.intercept(ctx, Call{Kind: base.KindMessage, Session: t.session()}, msg, func(ctx context.Context, v any) (any, error) {
			s, err := t.conn()
			if err != nil {
				return nil, err
			}
			return nil, m.sendOn(ctx, s, v)
		})
	}
	s, err := t.conn()
	if err != nil {
		return err
	}
	return m.sendOn(ctx, s, msg)
}

// intercept runs the outbound interceptors for a message (or broadcast)
// described by call, whose TypeID it sets, with the last step next.
func (m *Mux) intercept(ctx context.Context, call Call, v any, next Invoker) error {
	id, err := m.typeID(v)
	if err != nil {
		return err
	}
	call.TypeID = id
	_, err = m.outbound(ctx, call, v, next)
	return err
}

// Request sends req to p and returns its typed response, whose type comes
// from req's (see Returns), so no type argument or assertion is needed:
//
//	resp, err := netmessage.Request(ctx, client, WeatherRequest{City: "Bonn"})
//
// The outbound interceptors (WithOutbound) wrap the call. It fails with the
// peer's *RemoteError, base.ErrRequestTimeout after the response timeout,
// ctx's error, an error matching base.ErrClosed when the connection closes
// first, or, on a client without an open connection, at once with an error
// matching base.ErrNotConnected; all of them: docs/typed-api.md ("Errors").
func Request[Req RequestType[Resp], Resp any, P Peer](ctx context.Context, p P, req Req) (Resp, error) {
	var resp Resp
	t, err := resolve(p)
	if err != nil {
		return resp, err
	}
	m := t.m
	if m.outbound != nil {
		return interceptRequest[Req](ctx, t, req)
	}
	s, err := t.conn()
	if err != nil {
		return resp, err
	}
	ct, err := callTypeOf[Req](m)
	if err != nil {
		return resp, err
	}
	return call(ctx, m, s, ct, req)
}

// callType is what Request needs of a request type Req answered by Resp,
// found once for each Mux (see callTypeOf): the type ids, and the memory
// of finished calls for the next ones.
type callType[Req, Resp any] struct {
	// direct is set when Req is sent as the type it is, whose id reqID
	// is: a type that is neither a pointer (sent as the type it points
	// to, and not when nil) nor an interface (sent as its dynamic type),
	// which go the way of Send, through appendValue.
	direct  bool
	reqID   string
	respID  string
	states  sync.Pool // *callState[Req, Resp], zeroed
	box     boxer[Req]
	respBox boxer[Resp] // responses through the outbound interceptors
}

// callState is the memory of one call: the buffers of the request and
// response payloads, the request handed to the serializer (see boxer) and
// the value the response is decoded into.
type callState[Req, Resp any] struct {
	req, resp []byte
	request   Req
	value     Resp
}

// callTypeOf returns Req's callType in m. The response type must have an
// id before anything is sent (a request the peer ran must not then fail
// for a local reason), so a Resp without one fails it.
func callTypeOf[Req RequestType[Resp], Resp any](m *Mux) (*callType[Req, Resp], error) {
	t := reflect.TypeFor[Req]()
	if ct, ok := m.calls.Load(t); ok {
		return ct.(*callType[Req, Resp]), nil
	}
	respID, err := m.types.id(reflect.TypeFor[Resp]())
	if err != nil {
		return nil, err
	}
	ct := &callType[Req, Resp]{respID: respID, box: newBoxer[Req](), respBox: newBoxer[Resp]()}
	if k := t.Kind(); k != reflect.Pointer && k != reflect.Interface {
		if ct.reqID, err = m.types.id(t); err != nil {
			return nil, err
		}
		ct.direct = true
	}
	v, _ := m.calls.LoadOrStore(t, ct)
	return v.(*callType[Req, Resp]), nil
}

// call sends req on s and returns its response, as roundTrip does, in
// memory that ct keeps from call to call.
func call[Req RequestType[Resp], Resp any](ctx context.Context, m *Mux, s *base.Session, ct *callType[Req, Resp], req Req) (Resp, error) {
	st, _ := ct.states.Get().(*callState[Req, Resp])
	if st == nil {
		st = new(callState[Req, Resp])
	}
	var (
		payload []byte
		err     error
	)
	if ct.direct {
		st.request = req
		payload, err = appendPayload(st.req[:0], m.ser, ct.reqID, ct.box.of(&st.request))
		if err != nil {
			var zero Resp
			return zero, err // st is not reused: the error may refer to st.request
		}
		var zero Req
		st.request = zero
	} else {
		payload, err = m.appendValue(st.req[:0], req)
	}
	if err == nil {
		// The response has a buffer of its own: a peer may answer
		// (wrongly) before base has copied the request, and that must
		// not touch it.
		var raw []byte
		if raw, err = s.RequestAppend(ctx, st.resp[:0], payload); err == nil {
			err = m.decodeResponse(raw, &st.value, ct.respID)
		}
		st.resp = raw
	}
	st.req = payload
	resp := st.value
	var zero Resp
	st.value = zero
	if cap(st.req) > maxPooledBuffer {
		st.req = nil
	}
	if cap(st.resp) > maxPooledBuffer {
		st.resp = nil
	}
	ct.states.Put(st)
	return resp, err
}

// interceptRequest is Request through the outbound interceptors.
func interceptRequest[Req RequestType[Resp], Resp any](ctx context.Context, t target, req Req) (Resp, error) {
	var zero Resp
	m := t.m
	ct, err := callTypeOf[Req](m)
	if err != nil {
		return zero, err
	}
	var v any = req // boxed once
	id := ct.reqID
	if !ct.direct { // sent as its dynamic type, whose id v tells
		if id, err = m.typeID(v); err != nil {
			return zero, err
		}
	}
	out, err := m.outbound(ctx, Call{Kind: base.KindRequest, TypeID: id, Session: t.session()}, v, func(ctx context.Context, v any) (any, error) {
		s, err := t.conn()
		if err != nil {
			return nil, err
		}
		resp := new(Resp)
		if err := m.roundTrip(ctx, s, v, resp, ct.respID); err != nil {
			return nil, err
		}
		// The interface value holds resp itself, which nothing else
		// refers to: what boxing a copy would give, without the copy.
		return ct.respBox.of(resp), nil
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

// Broadcast sends msg to every open session of srv, a server whose handler
// is a *Mux (see NewServer). It encodes msg once and returns the errors of
// the sessions it could not queue msg on, joined, each naming its session
// ("session 3: ..."). A session whose write buffer is full (a peer that
// reads slowly) does not hold up the others: msg is queued on every
// session with room first, and Broadcast then waits, bounded by ctx, for
// room on the full ones together. The outbound interceptors run once
// around it all, with a nil Call.Session.
func Broadcast(ctx context.Context, srv *base.Server, msg any) error {
	if srv == nil {
		return errNilPeer
	}
	m, err := muxOf(srv.Handler())
	if err != nil {
		return err
	}
	if m.outbound != nil {
		return m.intercept(ctx, Call{Kind: base.KindMessage, broadcast: true}, msg, func(ctx context.Context, v any) (any, error) {
			return nil, m.broadcast(ctx, srv, v)
		})
	}
	return m.broadcast(ctx, srv, msg)
}

func (m *Mux) broadcast(ctx context.Context, srv *base.Server, msg any) error {
	sessions := srv.Sessions()
	if base.OutgoingMetadata(ctx) != nil && len(sessions) > 0 &&
		!slices.ContainsFunc(sessions, (*base.Session).CarriesCallInfo) {
		// Every session would refuse the metadata: fail as they would,
		// without encoding the message (an interceptor may try again
		// without the metadata).
		errs := make([]error, len(sessions))
		for i, b := range sessions {
			errs[i] = fmt.Errorf("session %d: %w", b.ID(), base.ErrNoCallInfo)
		}
		return errors.Join(errs...)
	}
	buf := getBuffer()
	payload, err := m.appendValue(*buf, msg)
	defer putBuffer(buf, payload)
	if err != nil {
		return err
	}
	var (
		errs []error
		full []*base.Session
	)
	for _, b := range sessions {
		switch err := b.TrySendMessage(ctx, payload); {
		case errors.Is(err, base.ErrWriteBufferFull):
			full = append(full, b)
		case err != nil:
			errs = append(errs, fmt.Errorf("session %d: %w", b.ID(), err))
		}
	}
	if len(full) > 0 {
		var (
			wg sync.WaitGroup
			mu sync.Mutex
		)
		for _, b := range full {
			wg.Go(func() {
				if err := b.SendMessage(ctx, payload); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("session %d: %w", b.ID(), err))
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	return errors.Join(errs...)
}

// appendValue appends the message or request payload for v to dst.
func (m *Mux) appendValue(dst []byte, v any) ([]byte, error) {
	t, err := packetType(v)
	if err != nil {
		return dst, err
	}
	id, err := m.types.id(t)
	if err != nil {
		return dst, err
	}
	return appendPayload(dst, m.ser, id, v)
}

// typeID returns the type id of v, a value to send.
func (m *Mux) typeID(v any) (string, error) {
	t, err := packetType(v)
	if err != nil {
		return "", err
	}
	return m.types.id(t)
}

// encodeAny returns a success response payload for v.
func (m *Mux) encodeAny(v any) ([]byte, error) {
	id, err := m.typeID(v)
	if err != nil {
		return nil, fmt.Errorf("response not sent: %w", err)
	}
	out, err := encodeOK(m.ser, id, v, 0)
	if err != nil {
		return nil, fmt.Errorf("response not sent: %w", err)
	}
	return out, nil
}

// sendOn sends msg as a message on s.
func (m *Mux) sendOn(ctx context.Context, s *base.Session, msg any) error {
	b := getBuffer()
	payload, err := m.appendValue(*b, msg)
	if err == nil {
		err = s.SendMessage(ctx, payload) // copies payload
	}
	putBuffer(b, payload)
	return err
}

// roundTrip sends req on s and decodes its response, whose type id must be
// want, into resp.
func (m *Mux) roundTrip(ctx context.Context, s *base.Session, req, resp any, want string) error {
	b := getBuffer()
	payload, err := m.appendValue(*b, req)
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
		err = m.decodeResponse(raw, resp, want)
	}
	putBuffer(rb, raw)
	return err
}

// decodeResponse decodes a response payload whose type id must be want
// into resp. Nothing it returns refers to raw.
func (m *Mux) decodeResponse(raw []byte, resp any, want string) error {
	id, body, err := decodeResponse(raw)
	if err != nil {
		return err
	}
	if string(id) != want {
		return fmt.Errorf("%w: response is a %q, want %q", ErrMalformed, id, want)
	}
	if err := m.ser.Unmarshal(body, resp); err != nil {
		return fmt.Errorf("netmessage: %s unmarshal response %s: %w", m.ser.Name(), want, err)
	}
	return nil
}
