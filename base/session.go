package base

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Session is one connection: a client connected to a Server, or a Client's
// connection to its server. It is safe for concurrent use.
//
// A Session owns three goroutines: the reader (the only one that reads from
// the connection), the writer (the only one that writes, coalescing
// concurrent sends into few writes and sending heartbeats) and the
// dispatcher (the only one that runs the open, message, closed and error
// hooks, in that order, so user code never stalls the reader). Request
// handlers run in goroutines of their own.
type Session struct {
	id     uint64
	conn   net.Conn
	proto  Protocol
	cfg    *config
	onEnd  func(*Session) // the server forgets the session, the client may reconnect; may be nil
	ctx    context.Context
	cancel context.CancelFunc
	tls    *tls.ConnectionState // nil when the connection is not TLS
	// cip is proto if it carries call information, else nil.
	cip      CallInfoProtocol
	local    atomic.Bool // Close or Disconnect was called on this end
	heard    atomic.Bool // the peer has sent at least one byte
	draining atomic.Bool // a graceful disconnect has begun

	// The groups below are each locked or written by different goroutines:
	// padding keeps each on cache lines of its own, so that a sender, a
	// caller and the reader do not take each other's lines for every
	// packet.
	_ [64]byte

	// Write side (write.go).
	wmu    sync.Mutex
	wbuf   []byte
	winfo  CallInfo // the call information of the packet being encoded
	wstate writeState
	wwait  chan struct{} // closed after the writer took wbuf; made on demand
	kick   chan struct{} // capacity 1: wbuf has bytes
	_      [64]byte

	// Outgoing requests (request.go).
	pmu       sync.Mutex
	pending   callTable
	abandoned map[uint32]struct{}
	abandonQ  []uint32
	nextID    uint32
	pclosed   *CloseError
	timeouts  timeoutList // requests waiting with the response timeout
	watch     ctxWatch    // the context that waiting callers share (watch.go)
	_         [64]byte

	// Received packets waiting for a hook or handler (dispatch.go).
	imu      sync.Mutex
	inbox    fifo[inbound]
	backlog  fifo[job]
	active   int           // request handlers running
	idleCh   chan struct{} // closed when active drops to 0; made on demand
	notify   chan struct{} // capacity 1: inbox has items
	handlers handlerState  // handler goroutines (dispatch.go)
	workers  []*worker     // handler goroutines, for the caller's cancel
	_        [64]byte

	// What received packets hold (read.go).
	queued   atomic.Int64  // bytes held for hooks and handlers
	readOwn  int64         // the read buffer's take from the server's budget (reader only)
	unblock  chan struct{} // capacity 1: queued went down to the room the reader waits for
	roomWait atomic.Int64  // the room the reader waits for (0: it does not wait)
	overHeld atomic.Int64  // taken from the server's budget for the part of queued past the allowance
	omu      sync.Mutex    // held to change overHeld, and to compare it with queued
	_        [64]byte

	closeOnce  sync.Once
	closeErr   atomic.Pointer[CloseError]
	closing    chan struct{} // closed when the session starts to close
	readerDone chan struct{}
	writerDone chan struct{}
	done       chan struct{}
}

func newSession(id uint64, conn net.Conn, proto Protocol, cfg *config) *Session {
	s := &Session{
		id:         id,
		conn:       conn,
		proto:      proto,
		cfg:        cfg,
		kick:       make(chan struct{}, 1),
		notify:     make(chan struct{}, 1),
		unblock:    make(chan struct{}, 1),
		closing:    make(chan struct{}),
		readerDone: make(chan struct{}),
		writerDone: make(chan struct{}),
		done:       make(chan struct{}),
		cip:        callInfoOf(proto),
	}
	if l, ok := s.cip.(MetadataLimiter); ok {
		l.LimitMetadata(cfg.maxMetadata)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if tc, ok := conn.(*tls.Conn); ok {
		st := tc.ConnectionState()
		s.tls = &st
	}
	if p := proto.Preface(); len(p) > 0 {
		s.wbuf = append(s.wbuf, p...)
		s.kick <- struct{}{}
	}
	if cfg.heartbeat <= 0 {
		setKeepAlive(conn, cfg.keepAliveIdle, cfg.keepAliveInterval)
	}
	return s
}

// start launches the session's goroutines.
func (s *Session) start() {
	go s.readLoop()
	go s.writeLoop()
	go s.dispatch()
}

// ID returns the session's id: unique among a server's sessions, counting
// from 1; 0 for a client's connection.
func (s *Session) ID() uint64 { return s.id }

// RemoteAddr returns the peer's network address.
func (s *Session) RemoteAddr() net.Addr { return s.conn.RemoteAddr() }

// LocalAddr returns this end's network address.
func (s *Session) LocalAddr() net.Addr { return s.conn.LocalAddr() }

// NetConn returns the underlying connection, for inspection (a TLS
// connection's state, say). Reading from or writing to it breaks the session.
func (s *Session) NetConn() net.Conn { return s.conn }

// CarriesCallInfo reports whether the session's protocol carries call
// information (metadata, a request's deadline, cancels): see
// CallInfoProtocol. Over a session that does not, a send with metadata
// fails with ErrNoCallInfo.
func (s *Session) CarriesCallInfo() bool { return s.cip != nil }

// TLS returns the state of the connection's completed TLS handshake (the
// negotiated version and cipher suite, and the peer's verified certificates
// in PeerCertificates and VerifiedChains), or nil when the connection is not
// a *tls.Conn. The state is shared: do not modify it.
func (s *Session) TLS() *tls.ConnectionState { return s.tls }

// Done returns a channel closed when the session has closed and its closed
// and error hooks have returned.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns nil while the session is open and then the *CloseError that
// says why it closed.
func (s *Session) Err() error {
	if ce := s.closeErr.Load(); ce != nil {
		return ce
	}
	return nil
}

// Close closes the connection at once, with ReasonClosedLocally. Packets not
// yet written are dropped and pending requests fail. Close returns when the
// reader and writer have stopped; the closed hook runs afterwards on the
// dispatcher (wait on Done for it). Close is safe to call from hooks and
// handlers, and more than once. On a client's connection it also tells the
// client not to reconnect (see WithReconnect).
func (s *Session) Close() error {
	s.local.Store(true)
	s.close(ReasonClosedLocally)
	return nil
}

func (s *Session) close(reason CloseReason) {
	s.fail(reason, nil)
	<-s.readerDone
	<-s.writerDone
}

// Disconnect closes the session gracefully: it stops new sends, waits for
// the request handlers running to answer, writes what is queued, half-closes
// the connection and waits for the peer to finish and close its side. Both
// ends then report ReasonGraceful and Disconnect returns nil. If that takes
// longer than the disconnect timeout, or ctx ends first, the connection is
// closed with ReasonDisconnectTimeout and Disconnect returns that
// *CloseError. Requests that arrive after Disconnect began are not handled;
// the peer sees them fail when the connection closes. On a client's
// connection it also tells the client not to reconnect (see WithReconnect).
func (s *Session) Disconnect(ctx context.Context) error {
	s.local.Store(true)
	return s.disconnect(ctx, false)
}

// disconnect is Disconnect. With patient set, the wait for running request
// handlers is bounded by ctx alone, and only the handshake that follows by
// the disconnect timeout (Server.Shutdown: in-flight requests are answered
// unless its ctx ends).
func (s *Session) disconnect(ctx context.Context, patient bool) error {
	if !s.draining.CompareAndSwap(false, true) {
		// A disconnect is already under way: wait for it, as long as ctx
		// allows.
		select {
		case <-s.closing:
		case <-ctx.Done():
			s.fail(ReasonDisconnectTimeout, nil)
		}
		<-s.readerDone
		<-s.writerDone
		return s.disconnectResult()
	}
	hctx := ctx // bounds the wait for handlers
	ctx, cancel := context.WithTimeout(ctx, s.cfg.disconnectTimeout)
	defer cancel()
	if !patient {
		hctx = ctx
	}
	select {
	case <-s.idle():
		s.closeWrite()
		if patient {
			// The handshake gets the whole disconnect timeout.
			var cancel2 context.CancelFunc
			ctx, cancel2 = context.WithTimeout(hctx, s.cfg.disconnectTimeout)
			defer cancel2()
		}
		select {
		case <-s.readerDone:
		case <-ctx.Done():
		}
	case <-s.closing:
	case <-hctx.Done():
	}
	s.fail(ReasonDisconnectTimeout, nil) // no-op if the handshake completed
	<-s.readerDone
	<-s.writerDone
	return s.disconnectResult()
}

func (s *Session) disconnectResult() error {
	ce := s.closeErr.Load()
	if ce.Reason == ReasonGraceful {
		return nil
	}
	return ce
}

// fail closes the session now, once; later calls do nothing.
func (s *Session) fail(reason CloseReason, err error) {
	s.closeOnce.Do(func() {
		ce := &CloseError{Reason: reason, Err: err}
		s.closeErr.Store(ce)
		s.wmu.Lock()
		s.wstate = writeClosed
		if s.wwait != nil {
			close(s.wwait)
			s.wwait = nil
		}
		s.wmu.Unlock()
		close(s.closing)
		s.imu.Lock()
		s.unparkLocked()
		s.imu.Unlock()
		s.cancel()
		s.conn.Close()
		s.failPending(ce)
	})
}

// closedErr is the error for a call on a session that is closing or closed.
func (s *Session) closedErr() error {
	if ce := s.closeErr.Load(); ce != nil {
		return ce
	}
	return ErrClosed
}

type keepAliver interface {
	SetKeepAliveConfig(net.KeepAliveConfig) error
}

type netConner interface{ NetConn() net.Conn }

// setKeepAlive switches TCP keep-alive on, looking through wrappers such as
// *tls.Conn that expose their NetConn.
func setKeepAlive(conn net.Conn, idle, interval time.Duration) {
	for range 4 {
		if k, ok := conn.(keepAliver); ok {
			_ = k.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: idle, Interval: interval, Count: -1})
			return
		}
		w, ok := conn.(netConner)
		if !ok {
			return
		}
		conn = w.NetConn()
	}
}

// Context returns a context that ends when the session starts to close. It
// is the context request handlers receive.
func (s *Session) Context() context.Context { return s.ctx }
