package base

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"slices"
	"sync"
	"time"
)

// ErrTooManySessions is reported as an error event when a connection is
// refused because the server has WithMaxSessions sessions open.
var ErrTooManySessions = errors.New("netmessage: too many sessions")

// Server accepts connections and opens a Session for each. It is safe for
// concurrent use.
type Server struct {
	newProto func() Protocol
	cfg      serverConfig

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	sessions  map[uint64]*Session
	lastID    uint64
	closed    bool
	stop      chan struct{} // closed by Close and Shutdown
	setup     sync.WaitGroup
	vetting   map[net.Conn]struct{} // accepted, not yet a session; closed by stopAccepting
}

// NewServer returns a server that speaks the protocol newProto creates, one
// instance per connection.
func NewServer(newProto func() Protocol, opts ...ServerOption) *Server {
	srv := &Server{
		newProto:  newProto,
		cfg:       serverConfig{config: defaultConfig()},
		listeners: make(map[net.Listener]struct{}),
		sessions:  make(map[uint64]*Session),
		stop:      make(chan struct{}),
		vetting:   make(map[net.Conn]struct{}),
	}
	for _, o := range opts {
		if o == nil {
			srv.cfg.errs = append(srv.cfg.errs, errNilOption)
			continue
		}
		o.applyServer(&srv.cfg)
	}
	srv.cfg.logHooks()
	srv.cfg.settle()
	if n := srv.cfg.inflightLimit(); n > 0 {
		srv.cfg.budget = newBudget(n)
	}
	return srv
}

// inflightLimit returns the server's budget for input (see
// WithMaxInflightBytes), or 0 for none.
func (c *serverConfig) inflightLimit() int64 {
	switch {
	case c.maxInflight < 0:
		return 0
	case c.maxInflight > 0:
		return c.maxInflight
	}
	return max(mulSat(int64(c.maxQueuedBytes), 8), mulSat(c.payloadCost(c.maxPacketSize), 2))
}

// ListenAndServe listens on the TCP address addr and serves it; see Serve.
func (srv *Server) ListenAndServe(addr string) error {
	if err := srv.cfg.err; err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return srv.Serve(ln)
}

// Serve accepts connections on ln until Close or Shutdown, and then returns
// ErrServerClosed; it closes ln. A server built with an option that
// cannot apply returns its error, matching ErrInvalidOption, at once.
// Temporary accept errors are reported as error events (a *CloseError with
// ReasonAcceptError) and retried with a growing pause. A Server may serve several listeners at once.
func (srv *Server) Serve(ln net.Listener) error {
	if err := srv.cfg.err; err != nil {
		ln.Close()
		return err
	}
	srv.mu.Lock()
	if srv.closed {
		srv.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	srv.listeners[ln] = struct{}{}
	srv.mu.Unlock()
	defer func() {
		srv.mu.Lock()
		delete(srv.listeners, ln)
		srv.mu.Unlock()
		ln.Close()
	}()

	var pause time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if srv.isClosed() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			srv.report(&CloseError{Reason: ReasonAcceptError, Err: err})
			select {
			case <-time.After(pause):
			case <-srv.stop:
			}
			continue
		}
		pause = 0
		srv.mu.Lock()
		if srv.closed {
			srv.mu.Unlock()
			conn.Close()
			return ErrServerClosed
		}
		srv.setup.Add(1)
		srv.vetting[conn] = struct{}{}
		srv.mu.Unlock()
		go srv.open(conn)
	}
}

// open sets up an accepted connection (see setUp) and raises the error
// event of one refused. The event comes once the connection no longer
// counts as being set up, so the error hook may call Close or Shutdown,
// which wait for those.
func (srv *Server) open(raw net.Conn) {
	if err := srv.setUp(raw); err != nil {
		srv.report(err)
	}
}

// setUp completes a connection's TLS handshake (see WithTLS), vets the
// connection and opens its session. It returns the error event to raise
// for a connection refused, if any.
func (srv *Server) setUp(raw net.Conn) error {
	defer srv.setup.Done()
	conn, herr := srv.acceptTLS(raw)
	var err, perr error
	if f := srv.cfg.verify; f != nil && herr == nil {
		err, perr = verify(f, conn)
	}
	srv.mu.Lock()
	delete(srv.vetting, raw)
	if herr != nil || err != nil || perr != nil || srv.closed {
		closed := srv.closed
		srv.mu.Unlock()
		raw.Close()
		switch {
		case perr != nil:
			return &CloseError{Reason: ReasonAcceptError, Err: perr}
		case herr != nil && !closed:
			return &CloseError{Reason: ReasonAcceptError, Err: herr}
		}
		return nil
	}
	if srv.cfg.maxSessions > 0 && len(srv.sessions) >= srv.cfg.maxSessions {
		srv.mu.Unlock()
		conn.Close()
		return &CloseError{Reason: ReasonAcceptError,
			Err: fmt.Errorf("%w (%d): refused %s", ErrTooManySessions, srv.cfg.maxSessions, conn.RemoteAddr())}
	}
	srv.lastID++
	s := newSession(srv.lastID, conn, srv.newProto(), &srv.cfg.config)
	s.onEnd = srv.forget
	srv.sessions[s.id] = s
	srv.mu.Unlock()
	s.start()
	return nil
}

// verify runs the verifier f on conn. A panic in f refuses the connection
// like an error, and comes back as perr, a *PanicError, for an error event.
func verify(f func(net.Conn) error, conn net.Conn) (err, perr error) {
	defer func() {
		if v := recover(); v != nil {
			perr = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return f(conn), nil
}

func (srv *Server) forget(s *Session) {
	srv.mu.Lock()
	delete(srv.sessions, s.id)
	srv.mu.Unlock()
}

// report raises a server error event (with a nil Session). A panic in the
// error hook is dropped, as for a session's error events.
func (srv *Server) report(err error) {
	if f := srv.cfg.onError; f != nil {
		defer func() { _ = recover() }()
		f(nil, err)
	}
}

func (srv *Server) isClosed() bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.closed
}

// Session returns the open session with the given id, or nil.
func (srv *Server) Session(id uint64) *Session {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if s := srv.sessions[id]; s != nil && s.Err() == nil {
		return s
	}
	return nil
}

// Sessions returns the open sessions, ordered by id.
func (srv *Server) Sessions() []*Session {
	srv.mu.Lock()
	list := make([]*Session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		if s.Err() == nil {
			list = append(list, s)
		}
	}
	srv.mu.Unlock()
	slices.SortFunc(list, func(a, b *Session) int { return compareID(a.id, b.id) })
	return list
}

// all returns every session the server holds, open or closing.
func (srv *Server) all() []*Session {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	list := make([]*Session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		list = append(list, s)
	}
	return list
}

func compareID(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// stopAccepting marks the server closed and closes its listeners. Sessions
// being set up are refused, and their connections closed so that a verifier
// waiting on one returns; wait on srv.setup for them.
func (srv *Server) stopAccepting() {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closed {
		return
	}
	srv.closed = true
	close(srv.stop)
	for ln := range srv.listeners {
		ln.Close()
	}
	for conn := range srv.vetting {
		conn.Close()
	}
}

// waitSetup waits, bounded by ctx, for the connections being set up when
// the server stopped accepting: their TLS handshakes end as stopAccepting
// closed the connections, but a verifier may block on anything.
func (srv *Server) waitSetup(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		srv.setup.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops accepting and closes every session at once, with
// ReasonServerShutdown. It returns when their readers and writers have
// stopped; the closed hooks run afterwards.
func (srv *Server) Close() error {
	srv.stopAccepting()
	srv.setup.Wait()
	for _, s := range srv.all() {
		s.close(ReasonServerShutdown)
	}
	return nil
}

// Shutdown stops accepting and disconnects every session gracefully (see
// Session.Disconnect): requests being handled are answered, queued packets
// are written, and both ends report ReasonGraceful. It returns nil when
// every session has closed and its hooks have run, or ctx's error when ctx
// ends first, after closing the rest with ReasonServerShutdown. It waits
// for the sessions' hooks, so a hook must not call it but start it in a
// new goroutine. Timeouts, verifiers and the listen backlog: see
// docs/reliability.md ("Graceful disconnect and shutdown").
func (srv *Server) Shutdown(ctx context.Context) error {
	srv.stopAccepting()
	if err := srv.waitSetup(ctx); err != nil {
		// A verifier still runs; its connection is refused when it returns.
		for _, s := range srv.all() {
			s.close(ReasonServerShutdown)
		}
		return err
	}
	list := srv.all() // closing ones too: Shutdown waits for their hooks
	var wg sync.WaitGroup
	for _, s := range list {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// If ctx ends first, the session closes with ReasonServerShutdown,
			// not with ReasonDisconnectTimeout for ctx's end.
			stop := context.AfterFunc(ctx, func() { s.close(ReasonServerShutdown) })
			defer stop()
			_ = s.disconnect(context.WithoutCancel(ctx), true)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		// ctx ended while sessions were disconnecting: some were closed.
		for _, s := range list {
			s.close(ReasonServerShutdown)
		}
		return err
	}
	for _, s := range list {
		select {
		case <-s.Done():
		case <-ctx.Done():
			for _, s := range list {
				s.close(ReasonServerShutdown)
			}
			return ctx.Err()
		}
	}
	return nil
}
