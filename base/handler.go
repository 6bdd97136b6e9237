package base

import (
	"context"
	"errors"
	"fmt"
	"reflect"
)

// Handler handles the packets a session receives: the layer above the
// transport, as an http.Handler is to an http.Server. Set it with
// WithHandler; the netmessage package's Mux is one. A Handler serves many
// sessions at once and must be safe for that.
type Handler interface {
	// ServeMessage handles a message. Messages reach it one at a time, in
	// the order the peer sent them, on the session's dispatcher. ctx
	// carries the message's metadata (see IncomingMetadata) and ends when
	// the connection closes. payload is valid only during the call. A
	// panic is recovered and raised as an error event.
	ServeMessage(ctx context.Context, s *Session, payload []byte)

	// ServeRequest handles a request and returns its response. Each
	// request runs in its own goroutine (at most WithMaxConcurrentRequests
	// at once). ctx ends when the connection closes, and, for a request
	// with call information, when the caller's deadline passes or the
	// caller cancels; it carries the request's metadata. payload is valid
	// only during the call. If it panics (or calls runtime.Goexit), no
	// response is sent, an error event says why, and the caller's request
	// ends with its timeout. It must not wait for Disconnect on its own
	// session, which waits for running requests; call it from a new
	// goroutine.
	ServeRequest(ctx context.Context, s *Session, payload []byte) (response []byte)

	// ServeUnsendable returns what to send in place of a response the
	// session cannot send: one over the maximum packet size, or one the
	// Protocol refuses to encode. err says why and is raised as an error
	// event too. Its answer is sent once; nil sends nothing, and the
	// caller's request then ends with its timeout, as it does when the
	// answer is refused too.
	ServeUnsendable(s *Session, err error) (response []byte)
}

// ErrInvalidOption is returned by Server.Serve, Server.ListenAndServe
// and Client.Connect when the end was built with an option that cannot
// apply, such as WithHandler together with OnMessage, a nil handler or a
// nil option: the end refuses to run rather than drop one of them.
var ErrInvalidOption = errors.New("netmessage: invalid option")

// errNilOption is the error of a nil option given to NewServer or
// NewClient.
var errNilOption = fmt.Errorf("%w: nil option", ErrInvalidOption)

// WithHandler sets the handler of the messages and requests received. It
// takes the place of the OnMessage, OnRequest and OnUnsendableResponse
// hooks, which are adapters to a Handler: giving it with any of them, or
// giving two handlers, makes the end refuse to run with
// ErrInvalidOption. A nil h is refused the same way.
func WithHandler(h Handler) Option {
	return option(func(c *config) {
		switch {
		case h == nil:
			c.errs = append(c.errs, fmt.Errorf("%w: WithHandler(nil)", ErrInvalidOption))
		case c.handler != nil && !sameHandler(c.handler, h):
			c.errs = append(c.errs, fmt.Errorf("%w: two handlers (WithHandler given twice)", ErrInvalidOption))
		default:
			c.handler = h
		}
	})
}

// sameHandler reports whether a and b are the same handler. Handlers of a
// type that cannot be compared are never the same: comparing them would
// panic.
func sameHandler(a, b Handler) bool {
	t := reflect.TypeOf(a)
	return t == reflect.TypeOf(b) && t.Comparable() && a == b
}

// hookHandler is the Handler made of the OnMessage, OnRequest and
// OnUnsendableResponse hooks; a nil hook is a kind of packet not handled.
type hookHandler struct {
	message    func(context.Context, *Session, []byte)
	request    func(context.Context, *Session, []byte) []byte
	unsendable func(*Session, error) []byte
}

func (h *hookHandler) set() bool {
	return h.message != nil || h.request != nil || h.unsendable != nil
}

func (h *hookHandler) ServeMessage(ctx context.Context, s *Session, payload []byte) {
	h.message(ctx, s, payload)
}

func (h *hookHandler) ServeRequest(ctx context.Context, s *Session, payload []byte) []byte {
	return h.request(ctx, s, payload)
}

func (h *hookHandler) ServeUnsendable(s *Session, err error) []byte {
	if h.unsendable == nil {
		return nil
	}
	return h.unsendable(s, err)
}

// settle checks the options applied to c and fixes the handler: the one
// of WithHandler, or one made of the hooks. The options' errors end up in
// c.err.
func (c *config) settle() {
	if c.hooks.set() {
		if c.handler != nil {
			c.errs = append(c.errs, fmt.Errorf("%w: WithHandler with OnMessage, OnRequest or OnUnsendableResponse", ErrInvalidOption))
		} else {
			h := c.hooks
			c.handler = &h
			c.messages, c.requests = h.message != nil, h.request != nil
		}
	} else if c.handler != nil {
		c.messages, c.requests = true, true
	}
	c.releaser, _ = c.handler.(ResponseReleaser)
	c.err = errors.Join(c.errs...)
}

// ResponseReleaser is a Handler that wants back the responses it
// returns, to reuse their memory: a session calls ReleaseResponse with
// each response ServeRequest or ServeUnsendable returned once it no
// longer uses it (it has copied it into its write buffer, or given up
// sending it). A session keeps no reference to a response it released.
type ResponseReleaser interface {
	Handler
	// ReleaseResponse takes back a response the session no longer uses.
	ReleaseResponse(response []byte)
}

// Handler returns the handler the session passes received packets to: the
// one set with WithHandler, or one made of the OnMessage, OnRequest and
// OnUnsendableResponse hooks; nil when none is set. A layer above finds
// itself through it, as netmessage.Request does.
func (s *Session) Handler() Handler { return s.cfg.handler }

// Handler returns the handler of the server's sessions; see
// Session.Handler.
func (srv *Server) Handler() Handler { return srv.cfg.handler }

// Handler returns the handler of the client's connections; see
// Session.Handler.
func (c *Client) Handler() Handler { return c.cfg.handler }

// ReportError raises err as an error event of the session, for a layer
// above that meets an error the transport cannot see, such as a payload
// it cannot decode. Called from ServeMessage, the event arrives in order
// with the session's messages; elsewhere it is raised on the calling
// goroutine, as a request handler's panic is. A panic in the error hook is
// dropped.
func (s *Session) ReportError(err error) {
	if err != nil {
		s.report(err)
	}
}
