package netmessage

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/netmessage-go/netmessage/base"
)

// Server is a typed server: it accepts connections, opens a *Session for
// each and dispatches received packets to the handlers registered with
// HandleMessage and HandleRequest.
type Server struct {
	srv      *base.Server
	ep       *endpoint
	rt       *router[*Session]
	sessions sync.Map // *base.Session -> *Session
}

// Session is one client's connection to a Server.
type Session struct {
	s   *base.Session
	srv *Server
}

// NewServer returns a server configured by opts.
func NewServer(opts ...ServerOption) (*Server, error) {
	cfg := serverConfig{config: defaultConfig()}
	for _, o := range opts {
		o.applyServer(&cfg)
	}
	cfg.logHooks()
	ep, err := newEndpoint(&cfg.config)
	if err != nil {
		return nil, err
	}
	srv := &Server{ep: ep}
	srv.rt = newRouter[*Session](ep)
	bopts := make([]base.ServerOption, 0, len(cfg.transport)+len(cfg.config.transport)+6)
	if o := decodeCost(cfg.ser); o != nil {
		bopts = append(bopts, o) // first: a transport option may override it
	}
	for _, o := range cfg.config.transport {
		bopts = append(bopts, o)
	}
	bopts = append(bopts, cfg.transport...)
	bopts = append(bopts,
		base.OnSessionOpened(func(b *base.Session) {
			s := srv.opened(b)
			if cfg.onOpened != nil {
				cfg.onOpened(s)
			}
		}),
		base.OnSessionClosed(func(b *base.Session, reason base.CloseReason) {
			s := srv.session(b)
			if ce, _ := b.Err().(*base.CloseError); ce == nil || ce.Err == nil {
				// No error event follows. Deferred: the hook may panic.
				defer srv.sessions.Delete(b)
			}
			if cfg.onClosed != nil {
				cfg.onClosed(s, reason)
			}
		}),
		base.OnError(func(b *base.Session, err error) {
			if b == nil {
				ep.report(nil, err)
				return
			}
			ep.report(srv.session(b), err)
			if err == b.Err() {
				// The error that closed the session: base's last event.
				srv.sessions.Delete(b)
			}
		}),
		base.OnMessage(func(ctx context.Context, b *base.Session, payload []byte) {
			srv.rt.onMessage(ctx, srv.session(b), payload)
		}),
		base.OnRequest(func(ctx context.Context, b *base.Session, payload []byte) []byte {
			return srv.rt.onRequest(ctx, srv.session(b), payload)
		}),
		base.OnUnsendableResponse(unsendable),
	)
	srv.srv = base.NewServer(cfg.proto, bopts...)
	return srv, nil
}

// session returns the *Session of b. The map holds b's entry from its first
// use (at the latest its opened event) until base's last event for b (the
// closed event, or the error event that follows it). Once b is closing, a
// missing entry is not stored again: a handler still running after the last
// event gets a wrapper of its own, so no entry outlives its session.
func (srv *Server) session(b *base.Session) *Session {
	if s, ok := srv.sessions.Load(b); ok {
		return s.(*Session)
	}
	s := &Session{s: b, srv: srv}
	if b.Err() != nil {
		return s
	}
	v, loaded := srv.sessions.LoadOrStore(b, s)
	if !loaded && b.Err() != nil {
		// b closed meanwhile, perhaps with its last event already past,
		// and with it the delete that would have removed this entry.
		srv.sessions.CompareAndDelete(b, s)
	}
	return v.(*Session)
}

// opened returns the *Session of b for its opened event, storing it even
// if b is already closing, so the closed event names the same *Session.
func (srv *Server) opened(b *base.Session) *Session {
	v, _ := srv.sessions.LoadOrStore(b, &Session{s: b, srv: srv})
	return v.(*Session)
}

func (srv *Server) router() *router[*Session] { return srv.rt }

// Serve accepts connections on ln until Close or Shutdown; see
// base.Server.Serve.
func (srv *Server) Serve(ln net.Listener) error { return srv.srv.Serve(ln) }

// ListenAndServe listens on the TCP address addr and serves it.
func (srv *Server) ListenAndServe(addr string) error { return srv.srv.ListenAndServe(addr) }

// Shutdown stops accepting and disconnects every session gracefully; see
// base.Server.Shutdown.
func (srv *Server) Shutdown(ctx context.Context) error { return srv.srv.Shutdown(ctx) }

// Close stops accepting and closes every session at once.
func (srv *Server) Close() error { return srv.srv.Close() }

// Serializer returns the serializer the server encodes and decodes
// packets with (see WithSerializer), for code that prepares payloads for
// its sessions, such as a cluster node.
func (srv *Server) Serializer() Serializer { return srv.ep.ser }

// Session returns the open session with the given id, or nil.
func (srv *Server) Session(id uint64) *Session {
	b := srv.srv.Session(id)
	if b == nil {
		return nil
	}
	return srv.session(b)
}

// Sessions returns the open sessions, ordered by id.
func (srv *Server) Sessions() []*Session {
	list := srv.srv.Sessions()
	out := make([]*Session, len(list))
	for i, b := range list {
		out[i] = srv.session(b)
	}
	return out
}

// Broadcast sends msg to every open session. It encodes msg once and
// returns the errors of the sessions it could not queue msg on, joined,
// each naming its session ("session 3: ..."). A session whose write buffer
// is full (a peer that reads slowly) does not hold up the others: msg is
// queued on every session with room first, and Broadcast then waits,
// bounded by ctx, for room on the full ones together. The outbound
// interceptors run once around it all, with a nil Peer.
func (srv *Server) Broadcast(ctx context.Context, msg any) error {
	if srv.ep.outbound != nil {
		return srv.ep.intercept(ctx, base.KindMessage, nil, msg, func(ctx context.Context, v any) (any, error) {
			return nil, srv.broadcast(ctx, v)
		})
	}
	return srv.broadcast(ctx, msg)
}

func (srv *Server) broadcast(ctx context.Context, msg any) error {
	buf := getBuffer()
	payload, err := srv.ep.appendValue(*buf, msg)
	defer putBuffer(buf, payload)
	if err != nil {
		return err
	}
	var (
		errs []error
		full []*base.Session
	)
	for _, b := range srv.srv.Sessions() {
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

// ID returns the session's id, unique within its server.
func (s *Session) ID() uint64 { return s.s.ID() }

// RemoteAddr returns the client's network address.
func (s *Session) RemoteAddr() net.Addr { return s.s.RemoteAddr() }

// Base returns the transport session underneath.
func (s *Session) Base() *base.Session { return s.s }

// TLS returns the state of the session's TLS connection, or nil when it is
// not TLS. With mutual TLS, the client's verified certificate is
// TLS().VerifiedChains[0][0]; see base.Session.TLS.
func (s *Session) TLS() *tls.ConnectionState { return s.s.TLS() }

// Send sends a one-way message to the client; see base.Session.SendMessage
// for what a nil error promises.
func (s *Session) Send(ctx context.Context, msg any) error { return s.srv.ep.send(ctx, s, msg) }

// Disconnect closes the session gracefully; see base.Session.Disconnect.
func (s *Session) Disconnect(ctx context.Context) error { return s.s.Disconnect(ctx) }

// Close closes the session at once.
func (s *Session) Close() error { return s.s.Close() }

// Done returns a channel closed when the session has closed and its hooks
// have run.
func (s *Session) Done() <-chan struct{} { return s.s.Done() }

// Err returns nil while the session is open, then why it closed.
func (s *Session) Err() error { return s.s.Err() }

func (s *Session) conn() (*base.Session, *endpoint, error) { return s.s, s.srv.ep, nil }
