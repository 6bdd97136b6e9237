package netmessage

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// Mux is the typed layer: a base.Handler that decodes each packet a
// session receives and calls the handler registered for its type (see
// HandleMessage and HandleRequest), through the inbound interceptors. It
// holds what both ends of a connection need: the serializer, the type ids,
// the interceptors and the protocol. A Mux serves any number of sessions,
// of servers and clients alike, and is safe for concurrent use. NewServer
// and NewClient build the transport around it; Request, Send and Broadcast
// find it again through base.Session.Handler.
type Mux struct {
	ser         Serializer
	proto       func() base.Protocol
	transport   []base.Option
	types       *registry
	onUnhandled func(*base.Session, base.Kind, string)
	// inbound and outbound are the interceptor chains, nil without
	// interceptors: the paths without them box no value on the heap (see
	// boxer).
	inbound  Interceptor
	outbound Interceptor

	// handlers is read without a lock by every received packet: it is
	// never changed, only replaced under mu by a changed copy.
	mu       sync.Mutex
	handlers atomic.Pointer[handlerTable]
	// calls holds a *callType for each request type sent (see callTypeOf),
	// keyed by its reflect.Type.
	calls sync.Map
}

// handlerTable is a Mux's registered handlers, by type id.
type handlerTable struct {
	messages map[string]*messageHandler
	requests map[string]*requestHandler
}

// setHandlers replaces m's handler table with a copy that change edits.
func (m *Mux) setHandlers(change func(*handlerTable)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.handlers.Load()
	t := &handlerTable{messages: maps.Clone(old.messages), requests: maps.Clone(old.requests)}
	change(t)
	m.handlers.Store(t)
}

// NewMux returns a Mux configured by opts. It fails for options that
// cannot apply: a nil serializer, protocol, interceptor or transport
// option, or type ids that clash.
func NewMux(opts ...Option) (*Mux, error) {
	c := defaultConfig()
	for _, o := range opts {
		if o == nil {
			c.errs = append(c.errs, errors.New("netmessage: nil option"))
			continue
		}
		o.apply(&c)
	}
	if err := errors.Join(c.errs...); err != nil {
		return nil, err
	}
	if c.ser == nil {
		return nil, fmt.Errorf("netmessage: nil serializer")
	}
	if c.proto == nil {
		return nil, fmt.Errorf("netmessage: nil protocol")
	}
	inbound, outbound := c.inbound, c.outbound
	transport := c.transport
	if c.logger != nil {
		// Outermost, to time the whole call and log what the caller sees.
		inbound = append([]Interceptor{logCalls(c.logger, "in")}, inbound...)
		outbound = append([]Interceptor{logCalls(c.logger, "out")}, outbound...)
		transport = append(transport, base.WithLogger(c.logger))
	}
	m := &Mux{
		ser:         c.ser,
		proto:       c.proto,
		transport:   transport,
		types:       newRegistry(),
		onUnhandled: c.onUnhandled,
		inbound:     chain(inbound),
		outbound:    chain(outbound),
	}
	m.handlers.Store(&handlerTable{
		messages: make(map[string]*messageHandler),
		requests: make(map[string]*requestHandler),
	})
	for _, e := range c.ids {
		if err := m.types.setExplicit(e.t, e.id); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// NewServer returns a base.Server whose sessions m handles: it speaks m's
// protocol, counts each received payload with the decode bound of m's
// serializer (see DecodeBounder; a base.WithDecodeCost in opts overrides
// it), and applies the settings of WithTransport, then opts: the
// transport's settings and hooks (base.OnSessionOpened, base.OnError,
// base.WithTLS and so on). An option in opts that cannot apply beside m,
// such as base.OnMessage, makes Serve fail with an error matching
// base.ErrInvalidOption, as does a nil m.
func NewServer(m *Mux, opts ...base.ServerOption) *base.Server {
	if m == nil {
		return base.NewServer(native.New, append(opts, base.WithHandler(nil))...)
	}
	all := make([]base.ServerOption, 0, len(m.transport)+len(opts)+2)
	if o := decodeCost(m.ser); o != nil {
		all = append(all, o) // first: a later option may override it
	}
	for _, o := range m.transport {
		all = append(all, o)
	}
	all = append(all, opts...)
	all = append(all, base.WithHandler(m))
	return base.NewServer(m.proto, all...)
}

// NewClient returns a base.Client whose connections m handles, built as
// NewServer builds a server: opts are the client's settings and hooks
// (base.WithReconnect, base.OnConnected and so on), and one that cannot
// apply beside m, or a nil m, makes Connect fail with an error matching
// base.ErrInvalidOption.
func NewClient(m *Mux, opts ...base.ClientOption) *base.Client {
	if m == nil {
		return base.NewClient(native.New, append(opts, base.WithHandler(nil))...)
	}
	all := make([]base.ClientOption, 0, len(m.transport)+len(opts)+2)
	if o := decodeCost(m.ser); o != nil {
		all = append(all, o)
	}
	for _, o := range m.transport {
		all = append(all, o)
	}
	all = append(all, opts...)
	all = append(all, base.WithHandler(m))
	return base.NewClient(m.proto, all...)
}

// Serializer returns the serializer m encodes and decodes values with
// (see WithSerializer), for code that prepares payloads for its sessions,
// such as a cluster node.
func (m *Mux) Serializer() Serializer { return m.ser }

// decodeCost returns the transport option that counts received payloads
// with ser's decode bound, or nil when ser has none.
func decodeCost(ser Serializer) base.Option {
	if b, ok := ser.(DecodeBounder); ok {
		perByte, fixed := b.DecodeBound()
		return base.WithDecodeCost(perByte, fixed)
	}
	return nil
}

// ErrNoMux is the error of Request, Send and Broadcast on a session,
// client or server whose handler is not a *Mux (see NewServer and
// NewClient): there are no type ids to send with.
var ErrNoMux = errors.New("netmessage: the connection's handler is not a *netmessage.Mux")

// muxOf returns the *Mux h is.
func muxOf(h base.Handler) (*Mux, error) {
	if m, ok := h.(*Mux); ok {
		return m, nil
	}
	return nil, ErrNoMux
}

// panicked raises an error event on s for the panic value v of a handler
// and returns the error its caller gets.
func panicked(s *base.Session, v any) error {
	s.ReportError(&base.PanicError{Value: v, Stack: debug.Stack()})
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
func (m *Mux) unhandled(s *base.Session, kind base.Kind, id string) {
	if m.onUnhandled == nil {
		if kind == base.KindMessage {
			s.ReportError(fmt.Errorf("%w: message %q dropped", ErrUnhandled, id))
		}
		return
	}
	defer func() {
		if v := recover(); v != nil {
			s.ReportError(&base.PanicError{Value: v, Stack: debug.Stack()})
		}
	}()
	m.onUnhandled(s, kind, id)
}

// ServeMessage decodes a received message and calls its type's handler,
// through the inbound interceptors; it implements base.Handler. A payload
// it cannot decode, and a message without a handler (see OnUnhandled),
// raise error events.
func (m *Mux) ServeMessage(ctx context.Context, s *base.Session, payload []byte) {
	id, body, err := splitHeader(payload)
	if err != nil {
		s.ReportError(err)
		return
	}
	h := m.handlers.Load().messages[string(id)]
	if m.inbound != nil {
		m.interceptMessage(ctx, s, id, h, body)
		return
	}
	if h == nil {
		m.unhandled(s, base.KindMessage, string(id))
		return
	}
	if err := h.run(ctx, s, body); err != nil {
		s.ReportError(err)
	}
}

// ServeRequest decodes a received request, calls its type's handler,
// through the inbound interceptors, and returns the encoded response or
// failure; it implements base.Handler. The caller gets a *RemoteError for
// a request that could not be decoded or has no handler.
func (m *Mux) ServeRequest(ctx context.Context, s *base.Session, payload []byte) []byte {
	id, body, err := splitHeader(payload)
	if err != nil {
		s.ReportError(err)
		return encodeFailure(statusBadRequest, err.Error())
	}
	h := m.handlers.Load().requests[string(id)]
	if m.inbound != nil {
		return m.interceptRequest(ctx, s, id, h, body)
	}
	if h == nil {
		m.unhandled(s, base.KindRequest, string(id))
		return encodeFailure(statusUnhandled, "no handler for "+string(id))
	}
	return h.run(ctx, s, body)
}

// ServeUnsendable answers in place of a response the session could not
// send (too large, or refused by the protocol), so the caller learns at
// once why rather than by its timeout; it implements base.Handler.
func (m *Mux) ServeUnsendable(_ *base.Session, err error) []byte {
	return encodeFailure(statusError, "response not sent: "+err.Error())
}

// ReleaseResponse takes back a response that base has sent, so that a
// later response is encoded into its memory; it implements
// base.ResponseReleaser.
func (m *Mux) ReleaseResponse(response []byte) { releaseResponse(response) }

// interceptMessage handles a message through the inbound interceptors; h
// is nil when the type has no handler.
func (m *Mux) interceptMessage(ctx context.Context, s *base.Session, rawID []byte, h *messageHandler, body []byte) {
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
			m.unhandled(s, base.KindMessage, id)
			raised = fmt.Errorf("%w: message %q", ErrUnhandled, id)
			return nil, raised
		}
	} else {
		if v, err = h.decode(body); err != nil {
			s.ReportError(err)
			return
		}
		callNext = func(ctx context.Context, v any) (any, error) {
			err := h.call(ctx, s, v)
			if isPanic(err) {
				raised = err
			}
			return nil, err
		}
	}
	_, err = m.inbound(ctx, Call{Kind: base.KindMessage, TypeID: id, Session: s}, v, callNext)
	if err != nil && (raised == nil || !errors.Is(err, raised)) {
		s.ReportError(err)
	}
}

// interceptRequest handles a request through the inbound interceptors and
// returns the response; h is nil when the type has no handler.
func (m *Mux) interceptRequest(ctx context.Context, s *base.Session, rawID []byte, h *requestHandler, body []byte) (out []byte) {
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
			out = failure(panicked(s, v))
		}
	}()
	var (
		v        any
		err      error
		callNext Invoker
	)
	if h == nil {
		callNext = func(context.Context, any) (any, error) {
			m.unhandled(s, base.KindRequest, id)
			return nil, &RemoteError{Code: CodeUnhandled, Message: "no handler for " + id}
		}
	} else {
		if v, err = h.decode(body); err != nil {
			s.ReportError(err)
			return encodeFailure(statusBadRequest, err.Error())
		}
		callNext = func(ctx context.Context, v any) (any, error) { return h.call(ctx, s, v) }
	}
	resp, err := m.inbound(ctx, Call{Kind: base.KindRequest, TypeID: id, Session: s}, v, callNext)
	if err != nil {
		return failure(err)
	}
	if h != nil {
		out, err = h.encode(resp)
	} else {
		// An interceptor answered a request that has no handler.
		out, err = m.encodeAny(resp)
	}
	if err != nil {
		s.ReportError(err)
		return encodeFailure(statusError, err.Error())
	}
	return out
}
