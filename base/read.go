package base

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"runtime/debug"
	"slices"
	"sync"
	"time"
)

const (
	readBufferSize    = 4 << 10  // the read buffer's starting size
	maxIdleReadBuffer = 64 << 10 // a larger empty read buffer is dropped
	frameOverhead     = 1 << 10  // bytes a frame may add to its payload and metadata
	itemOverhead      = 64       // bytes charged per held packet besides its payload
	// sessionAllowance is what a session may hold for hooks and handlers
	// without waiting for the server's budget (WithMaxInflightBytes), so
	// that one peer's quiet traffic is not held up by others that fill it.
	sessionAllowance = 256 << 10
)

// errStop ends the read loop because the session is closing.
var errStop = errors.New("stop")

// readLoop is the reader goroutine: the only one that reads from the
// connection. It decodes packets in place and hands them on without
// waiting for user code, except when the limits on held bytes are reached.
func (s *Session) readLoop() {
	defer close(s.readerDone)
	reason, err := s.read()
	switch reason {
	case ReasonGraceful, ReasonProtocolError:
		s.finish(reason, err)
	default:
		s.fail(reason, err)
	}
}

// readPool holds read buffers, so that a session waiting for input with
// nothing buffered holds none.
var readPool = sync.Pool{New: func() any { b := make([]byte, 0, readBufferSize); return &b }}

func (s *Session) read() (reason CloseReason, err error) {
	defer func() {
		// A panic in the Protocol (user code: its Decode, or a
		// CallInfoProtocol's Info; and the input may be hostile) closes
		// this connection alone, as a protocol error. It is recovered
		// once, around the whole loop, rather than by a deferred call
		// around each packet.
		if v := recover(); v != nil {
			reason, err = ReasonProtocolError, fmt.Errorf("netmessage: Protocol.Decode: %w", &PanicError{Value: v, Stack: debug.Stack()})
		}
	}()
	maxFrame := s.cfg.maxFrame()
	r := reader{conn: s.conn, budget: s.cfg.budget, most: int(min(addSat(maxFrame, 1), math.MaxInt))} // an int of 32 bits caps it
	r.raw = newRawRead(s.conn, &r)
	defer r.close()
	var deadline time.Time // the read deadline set, zero for none
	for {
		if t := s.cfg.receiveTimeout; t > 0 {
			// The connection may stay silent for the receive timeout, and
			// up to a sixteenth more: the deadline is moved only when less
			// than the timeout is left, which spares most reads the cost.
			now := time.Now()
			if deadline.Sub(now) < t {
				deadline = now.Add(withSlack(t))
				if err := s.conn.SetReadDeadline(deadline); err != nil {
					return ReasonNetworkError, err
				}
			}
		}
		if err := s.readRoom(&r); err != nil {
			if err == errStop {
				return ReasonClosedLocally, nil
			}
			return ReasonConnectionLost, err
		}
		rerr := r.fill()
		if len(r.buf) > 0 && !s.heard.Load() {
			s.heard.Store(true)
		}
		s.readOwn = r.charged
		buf := r.buf
		off := 0
		for off < len(buf) {
			p, used, err := s.proto.Decode(buf[off:], s.cfg.maxPacketSize) // a panic: see read's recover
			if err != nil && used > 0 && used <= len(buf)-off {
				// One bad packet the protocol could delimit: raise an
				// error event, in order with the packets around it, and
				// go on with the next one.
				off += used
				if !s.pushErr(err) {
					return ReasonClosedLocally, nil
				}
				continue
			}
			if err != nil {
				return ReasonProtocolError, err
			}
			if used == 0 {
				break
			}
			if used < 0 || used > len(buf)-off {
				return ReasonProtocolError, fmt.Errorf("netmessage: protocol consumed %d of %d bytes", used, len(buf)-off)
			}
			off += used
			if err := s.handle(p); err != nil {
				if err == errStop {
					return ReasonClosedLocally, nil
				}
				return ReasonProtocolError, err
			}
		}
		rest := copy(buf, buf[off:])
		r.buf = buf[:rest]
		if int64(rest) > maxFrame {
			return ReasonProtocolError, fmt.Errorf("%w: more than %d bytes without a whole packet", ErrPacketTooLarge, rest)
		}
		if rest == 0 && cap(r.buf) > maxIdleReadBuffer {
			r.drop()
		}
		if rerr != nil {
			return readError(rerr, rest)
		}
	}
}

// maxFrame returns the most bytes the frame of a packet this end accepts
// may take: the largest payload, the most metadata, with up to two bytes
// more for each of its bytes (the lengths a protocol gives short keys and
// values), and frameOverhead.
func (c *config) maxFrame() int64 {
	return addSat(addSat(int64(c.maxPacketSize), mulSat(int64(c.maxMetadata), 3)), frameOverhead)
}

// withSlack returns t and a sixteenth more, the wait a coarse deadline
// allows, or t where that overflows (a timeout of math.MaxInt64).
func withSlack(t time.Duration) time.Duration {
	if d := t + t/16; d > t {
		return d
	}
	return t
}

// readError says why reading ended with err, rest bytes of a packet
// unread.
func readError(err error, rest int) (CloseReason, error) {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF) && rest > 0:
		return ReasonProtocolError, fmt.Errorf("netmessage: stream ended inside a packet (%d bytes): %w", rest, io.ErrUnexpectedEOF)
	case errors.Is(err, io.EOF):
		return ReasonGraceful, nil
	case errors.As(err, &ne) && ne.Timeout():
		return ReasonConnectionLost, nil
	}
	return ReasonNetworkError, err
}

// reader is the read side's buffer. buf holds the bytes of a packet not
// yet whole; it is taken from readPool when a read needs room and given
// back while the reader waits with nothing buffered, where the connection
// allows waiting without a buffer.
type reader struct {
	conn  net.Conn
	raw   *rawRead // nil: read with conn.Read, holding the buffer meanwhile
	held  *[]byte  // buf's pool entry; nil while no buffer is held
	buf   []byte
	space int // the spare capacity offered to the last read
	want  int // spare capacity to offer: grows while reads fill it

	budget  *budget // the server's, or nil
	charged int64   // taken from budget for buf's capacity past maxIdleReadBuffer
	most    int     // the bytes of the largest packet's frame; the buffer grows no further
}

// maxReadSpace bounds the spare capacity a read is offered.
const maxReadSpace = 32 << 10

// room makes sure buf has spare capacity: at least want bytes, where
// reads have filled what they were offered, and at least one byte.
func (r *reader) room() {
	if r.held == nil {
		r.held = readPool.Get().(*[]byte)
		r.buf = (*r.held)[:0]
	}
	if n := r.grown(); n > 0 {
		r.buf = slices.Grow(r.buf, n-len(r.buf))
	}
	r.space = cap(r.buf) - len(r.buf)
}

// grown returns the capacity room gives a held buffer that lacks spare
// capacity, or 0 when it has enough.
func (r *reader) grown() int {
	if free := cap(r.buf) - len(r.buf); free > 0 && free >= r.want {
		return 0
	}
	n := len(r.buf) + max(r.want, cap(r.buf))
	if r.most > len(r.buf) {
		n = min(n, r.most) // no more than the largest packet needs
	}
	return n
}

// readRoom grows the read buffer, when the next read needs it to grow past
// maxIdleReadBuffer (a packet larger than that is arriving), after taking
// the growth from the server's budget. While the budget has no room the
// reader waits, for at most the receive timeout: then ErrInflightLimit.
// It returns errStop when the session closes meanwhile.
func (s *Session) readRoom(r *reader) error {
	if r.budget == nil || r.held == nil {
		return nil // a buffer from the pool is within maxIdleReadBuffer
	}
	n := r.grown()
	// A packet larger than the whole budget is let in alone: its buffer
	// takes all of it.
	need := r.budget.clip(int64(n - maxIdleReadBuffer))
	if n == 0 || need <= r.charged {
		return nil
	}
	wait := s.cfg.receiveTimeout
	if wait <= 0 {
		wait = DefaultReceiveTimeout
	}
	t := time.NewTimer(wait)
	err := r.budget.take(need-r.charged, 0, s.closing, t.C)
	t.Stop()
	if err == errExpired {
		return fmt.Errorf("%w: no room within %v for a packet of more than %d bytes", ErrInflightLimit, wait, len(r.buf))
	}
	if err != nil {
		return err
	}
	r.charged = need
	r.buf = slices.Grow(r.buf, n-len(r.buf))
	return nil
}

// filled notes a read of n bytes: one that filled its space means more is
// waiting, so the next is offered more; one that used little of it lets
// the offer shrink again.
func (r *reader) filled(n int) {
	r.buf = r.buf[:len(r.buf)+n]
	switch {
	case n == r.space:
		r.want = min(max(2*r.want, readBufferSize), maxReadSpace)
	case n < r.space/8:
		r.want /= 2
	}
}

// release gives an empty buffer back to the pool; a large one is left to
// the garbage collector.
func (r *reader) release() {
	if r.held == nil || len(r.buf) > 0 {
		return
	}
	if cap(r.buf) <= maxIdleReadBuffer {
		*r.held = r.buf[:0]
		readPool.Put(r.held)
	}
	r.held, r.buf = nil, nil
	r.uncharge()
}

// drop forgets an empty buffer, so the next read starts with a small one.
func (r *reader) drop() {
	r.held, r.buf = nil, nil
	r.uncharge()
}

// close ends reading: an empty buffer goes back to the pool, and what the
// buffer took from the budget is given back.
func (r *reader) close() {
	r.release()
	r.uncharge()
}

func (r *reader) uncharge() {
	if r.charged > 0 {
		r.budget.give(r.charged)
		r.charged = 0
	}
}

// fill reads once, appending to buf.
func (r *reader) fill() error {
	if r.raw != nil {
		return r.raw.read()
	}
	r.room()
	n, err := r.conn.Read(r.buf[len(r.buf):cap(r.buf)])
	r.filled(n)
	return err
}

// recvInfo returns the call information of the packet decoded last, or
// nil.
func (s *Session) recvInfo() *CallInfo {
	if s.cip == nil {
		return nil
	}
	return s.cip.Info()
}

// handle passes one decoded packet on. p.Payload aliases the read buffer, so
// whatever keeps it copies it.
func (s *Session) handle(p Packet) error {
	switch p.Kind {
	case KindNone:
		return nil
	case KindMessage:
		if !s.cfg.messages {
			return s.drop(fmt.Errorf("%w: message dropped", ErrNoHandler))
		}
		md := s.recvInfo().meta()
		if err := md.check(s.cfg.maxMetadata, true); err != nil {
			return s.drop(fmt.Errorf("message dropped: %w", err))
		}
		if !s.acquire(s.cfg.payloadCost(len(p.Payload) + md.Size())) {
			return errStop
		}
		s.push(inbound{buf: getBuf(p.Payload), meta: md})
		return nil
	case KindRequest:
		if s.draining.Load() {
			return nil // not accepted: the peer's call fails when we close
		}
		if !s.cfg.requests {
			return s.drop(fmt.Errorf("%w: request %d dropped", ErrNoHandler, p.ID))
		}
		info := s.recvInfo()
		md := info.meta()
		if err := md.check(s.cfg.maxMetadata, true); err != nil {
			return s.drop(fmt.Errorf("request %d dropped: %w", p.ID, err)) // its caller waits for its timeout
		}
		n := md.Size()
		if !s.acquire(s.cfg.payloadCost(len(p.Payload) + n)) {
			return errStop
		}
		j := job{id: p.ID, buf: getBuf(p.Payload), meta: int32(n)}
		s.startCall(&j, info)
		s.startJob(j)
		return nil
	case KindCancel:
		s.cancelled(p.ID)
		return nil
	case KindResponse:
		err := s.resolve(p.ID, p.Payload)
		if err != nil && s.cfg.skipUnknown {
			return s.drop(err)
		}
		return err
	}
	return fmt.Errorf("netmessage: unknown packet kind %d", p.Kind)
}

// drop raises err, about a received packet the session drops, as an
// error event and goes on: nil, or errStop when the session is closing.
func (s *Session) drop(err error) error {
	if !s.pushErr(err) {
		return errStop
	}
	return nil
}

// pushErr queues an error event about the input, counted like a packet
// without payload among the bytes held for hooks, so that a peer cannot
// make this end queue error events without bound. It reports false when
// the session is closing.
func (s *Session) pushErr(err error) bool {
	if !s.acquire(itemOverhead) {
		return false
	}
	s.push(inbound{err: err})
	return true
}

// payloadCost is what a received payload of n bytes counts as among the
// bytes held for hooks and handlers, from its arrival until its hook or
// handler returns: its copy, what decoding it may take (WithDecodeCost) and
// the bookkeeping.
func (c *config) payloadCost(n int) int64 {
	return addSat(addSat(int64(n), mulSat(int64(n), c.decodePerByte)), c.decodeFixed+itemOverhead)
}

// acquire reserves cost bytes among those held for hooks and handlers,
// waiting while the session's limit is reached (one packet always fits),
// then, for the part past the session's allowance (sessionAllowance, which
// the server's budget does not count), while the server's budget is. So a
// session within its allowance, the common case, touches nothing shared.
// It reports false when the session is closing.
func (s *Session) acquire(cost int64) bool {
	limit := int64(s.cfg.maxQueuedBytes)
	for {
		q := s.queued.Load()
		if q == 0 || cost <= limit-q {
			break
		}
		// Say how much room the reader waits for, then look again: a
		// release either sees it and wakes the reader once there is that
		// much, or lowered queued before the look. It waits for room for
		// this packet and an eighth of the limit more, so that a full
		// session's reader is woken once per batch of releases rather
		// than for each.
		s.roomWait.Store(min(cost+limit/8, limit))
		if q := s.queued.Load(); q == 0 || cost <= limit-q {
			s.roomWait.Store(0)
			break
		}
		select {
		case <-s.unblock:
		case <-s.closing:
			return false
		}
		s.roomWait.Store(0)
	}
	// The packet counts among the held bytes before takeOver compares
	// them with what the session holds from the budget, so that a release
	// trimming that meanwhile keeps what the packet needs.
	q := s.queued.Add(cost)
	if b := s.cfg.budget; b != nil {
		if !s.takeOver(b, q) {
			s.release(cost)
			return false
		}
		if s.overHeld.Load() > 0 {
			// Releases while takeOver waited may have left the session
			// holding more than it needs.
			s.trimOver(b)
		}
	}
	return true
}

// overAllowance is how much of q held bytes the server's budget counts:
// what is past the session's allowance.
func overAllowance(q int64) int64 { return max(q-sessionAllowance, 0) }

// takeOver makes what the session holds from b (overHeld) cover the part
// of its held bytes past the allowance, waiting while b has no room. It
// runs on the reader, once the packet it is for counts among the held
// bytes (q of them then); it reports false when the session is closing.
func (s *Session) takeOver(b *budget, q int64) bool {
	if overAllowance(q) == 0 {
		return true // releases since only lowered the need
	}
	s.omu.Lock()
	need := overAllowance(s.queued.Load())
	held := s.overHeld.Load()
	s.omu.Unlock()
	if need <= held {
		return true
	}
	want := b.clip(need - held)
	if b.take(want, s.readOwn, s.closing, nil) != nil {
		return false
	}
	if b.queued.Load() == 0 && b.tryAdd(overSlack, s.readOwn) {
		want += overSlack // room for the next packets, if it is free now
	}
	s.omu.Lock()
	s.overHeld.Add(want)
	s.omu.Unlock()
	return true
}

// overSlack is what a session over its allowance may hold from the
// server's budget beyond its need, so that a stream of packets does not
// take from and give to the shared budget for each one: takeOver takes
// that much more when it is free, and trimOver gives back only past twice
// that much, or all once the session is back within its allowance.
const overSlack = 64 << 10

// trimOver gives back to b what the session holds from it beyond the part
// of its held bytes past the allowance, keeping overSlack of it while they
// are past the allowance.
func (s *Session) trimOver(b *budget) {
	if b == nil {
		return
	}
	if g := s.trimmed(); g > 0 {
		b.give(g)
	}
}

// trimmed takes off overHeld, and returns, what trimOver gives back. The
// held bytes are read under s.omu, as takeOver reads them once the packet
// it is for counts among them: a packet the reader lets in meanwhile is
// counted here, or takeOver sees what is left.
func (s *Session) trimmed() int64 {
	// Most releases have nothing to give back: seen so without the lock,
	// they take none (giving back less than it could is always safe).
	if excess(s.overHeld.Load(), s.queued.Load()) == 0 {
		return 0
	}
	s.omu.Lock()
	defer s.omu.Unlock()
	h := s.overHeld.Load()
	g := excess(h, s.queued.Load())
	s.overHeld.Store(h - g)
	return g
}

// excess returns what of h, held from the budget, the session gives back
// with q bytes held: all past the need of q, but overSlack of it is kept
// while q is past the allowance, and nothing is given while the surplus is
// within twice that.
func excess(h, q int64) int64 {
	need := overAllowance(q)
	g := h - need
	if need > 0 {
		if g <= 2*overSlack {
			return 0
		}
		g -= overSlack
	}
	return max(g, 0)
}

// release gives back what acquire reserved, and to the server's budget
// what the session no longer needs from it.
func (s *Session) release(cost int64) {
	q := s.queued.Add(-cost)
	if q+cost > sessionAllowance {
		s.trimOver(s.cfg.budget)
	}
	if w := s.roomWait.Load(); w != 0 && (q == 0 || w <= int64(s.cfg.maxQueuedBytes)-q) {
		select {
		case s.unblock <- struct{}{}:
		default:
		}
	}
}

// finish ends a session whose peer ended its stream or sent bad input:
// nothing more will be read, so pending requests fail now; running
// handlers may still answer (bounded by the disconnect timeout); then what
// is queued is written, the write side half-closed and the connection
// closed.
func (s *Session) finish(reason CloseReason, err error) {
	s.failPending(&CloseError{Reason: reason, Err: err})
	if s.draining.CompareAndSwap(false, true) {
		t := time.NewTimer(s.cfg.disconnectTimeout)
		select {
		case <-s.idle():
		case <-t.C:
		case <-s.closing:
		}
		t.Stop()
		s.closeWrite()
	}
	// Else Disconnect started the handshake and asks for the half-close.
	select {
	case <-s.writerDone:
	case <-s.closing:
	}
	s.fail(reason, err)
}
