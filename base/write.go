package base

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

type writeState uint8

const (
	writeOpen     writeState = iota
	writeDraining            // flush what is queued, then half-close
	writeClosed
)

// Write buffers: an idle writer (see writeLoop) keeps buffers up to
// smallWriteBuffer bytes; larger ones (after a burst or a big packet) go
// to writePool, or to the garbage collector past maxPooledWriteBuffer, and
// senders take one from the pool when they find no buffer. So a busy
// connection reuses its large buffers and an idle one holds small ones.
const (
	smallWriteBuffer     = 4 << 10
	maxPooledWriteBuffer = 4 << 20
)

var writePool sync.Pool // of *[]byte

// idleWriteBuffer returns what a writer with nothing to write keeps of b.
func idleWriteBuffer(b []byte) []byte {
	if cap(b) <= smallWriteBuffer {
		return b[:0]
	}
	if cap(b) <= maxPooledWriteBuffer {
		kept := b[:0] // a variable of its own, so that only this path allocates
		writePool.Put(&kept)
	}
	return nil
}

// SendMessage queues a one-way message for sending. It waits, bounded by ctx,
// only while the write buffer is full; with ctx already ended it fails with
// ctx's error and sends nothing. A nil error means the message is
// queued: the writer sends it unless the connection breaks first (a graceful
// Disconnect sends everything queued). Use a request when the sender must
// know the peer received it.
//
// The message carries ctx's outgoing metadata (see AppendMetadata).
func (s *Session) SendMessage(ctx context.Context, payload []byte) error {
	var info CallInfo
	if err := s.setMeta(ctx, &info); err != nil {
		return err
	}
	return s.send(ctx, Packet{Kind: KindMessage, Payload: payload}, info.orNil(), sendUser, nil)
}

// TrySendMessage queues a one-way message like SendMessage, but never
// waits: while the write buffer is full it fails at once with
// ErrWriteBufferFull. It suits a sender that serves many sessions, such as
// a broadcast, which must not let one slow peer hold up the others. The
// message carries ctx's outgoing metadata; with ctx already ended it fails
// with ctx's error.
func (s *Session) TrySendMessage(ctx context.Context, payload []byte) error {
	var info CallInfo
	if err := s.setMeta(ctx, &info); err != nil {
		return err
	}
	return s.send(ctx, Packet{Kind: KindMessage, Payload: payload}, info.orNil(), sendNoWait, nil)
}

// orNil returns i, or nil if it is the zero CallInfo.
func (i *CallInfo) orNil() *CallInfo {
	if i.isZero() {
		return nil
	}
	return i
}

// setMeta gives info ctx's outgoing metadata, if any, after checking it.
func (s *Session) setMeta(ctx context.Context, info *CallInfo) error {
	md := OutgoingMetadata(ctx)
	if md == nil {
		return nil
	}
	if s.cip == nil {
		return ErrNoCallInfo
	}
	if err := md.check(s.cfg.maxMetadata, false); err != nil {
		return err
	}
	info.Meta = md
	return nil
}

// cancelCall tells the peer that the caller of request id gave up: best
// effort, never waiting (a full write buffer or a closing connection drops
// it; the peer's handler then runs to its own end).
func (s *Session) cancelCall(id uint32) {
	_ = s.send(context.Background(), Packet{Kind: KindCancel, ID: id}, nil, sendNoWait, nil)
}

// errResolved is send's error for a request whose call ended while it
// waited for room: its result is in the call's channel.
var errResolved = errors.New("request ended before it was sent")

// sendMode says who sends a packet and how.
type sendMode uint8

const (
	// sendResponse: a handler's answer, still sent during a graceful
	// disconnect.
	sendResponse sendMode = iota
	// sendUser: a message or request; refused once a graceful disconnect
	// has begun, and not sent when ctx has already ended.
	sendUser
	// sendNoWait: like sendUser, failing instead of waiting for room.
	sendNoWait
)

// send encodes p, with info as its call information (nil for none), into
// the write buffer and wakes the writer. This is the one place where
// packets enter the connection's byte stream. info is copied: the caller's
// may stay on its stack. ended is a request's result channel (nil for
// other packets): a request whose call ends (its response timeout, its
// ctx, the close) while it waits for room is not sent, its result left
// in ended, and send returns errResolved.
func (s *Session) send(ctx context.Context, p Packet, info *CallInfo, mode sendMode, ended chan result) error {
	user := mode != sendResponse
	if user {
		if err := ctx.Err(); err != nil {
			return err // a caller that has given up sends nothing
		}
	}
	if len(p.Payload) > s.cfg.maxPacketSize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrPacketTooLarge, len(p.Payload), s.cfg.maxPacketSize)
	}
	var waited time.Time // when it began to wait for room, if it did
	s.wmu.Lock()
	for {
		if s.wstate != writeOpen || (user && s.draining.Load()) {
			s.wmu.Unlock()
			return s.closedErr()
		}
		if len(s.wbuf) < s.cfg.maxWriteBuffer {
			break
		}
		if mode == sendNoWait {
			s.wmu.Unlock()
			return ErrWriteBufferFull
		}
		if s.wwait == nil {
			s.wwait = make(chan struct{})
		}
		wait := s.wwait
		s.wmu.Unlock()
		if waited.IsZero() {
			waited = time.Now()
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		case r := <-ended:
			ended <- r // its capacity is 1, and nothing else sends once it is resolved
			return errResolved
		}
		s.wmu.Lock()
	}
	if s.wbuf == nil {
		if b, ok := writePool.Get().(*[]byte); ok {
			s.wbuf = *b
		}
	}
	var b []byte
	var err error
	if info == nil {
		b, err = appendPacket(s.proto, s.wbuf, p, nil)
	} else {
		// A copy in the session, not the caller's: passed to an
		// interface method, the caller's would escape to the heap.
		s.winfo = *info
		if s.winfo.Timeout > 0 && !waited.IsZero() {
			// The time spent waiting for room is the caller's too.
			s.winfo.Timeout = max(s.winfo.Timeout-time.Since(waited), time.Microsecond)
		}
		b, err = appendPacket(s.cip, s.wbuf, p, &s.winfo)
		s.winfo = CallInfo{}
	}
	if err == nil {
		s.wbuf = b
	}
	s.wmu.Unlock()
	if err != nil {
		return &encodeError{kind: p.Kind, err: err}
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return nil
}

// closeWrite asks the writer to flush what is queued and half-close.
func (s *Session) closeWrite() {
	s.wmu.Lock()
	if s.wstate == writeOpen {
		s.wstate = writeDraining
	}
	s.wmu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// writeLoop is the writer goroutine: the only one that writes to the
// connection. Each round takes all queued bytes at once (senders go on
// filling a second buffer meanwhile) and writes them with one call.
func (s *Session) writeLoop() {
	defer close(s.writerDone)
	var tick <-chan time.Time
	hb := s.proto.Heartbeat()
	if s.cfg.heartbeat > 0 && len(hb) > 0 {
		t := time.NewTicker(s.cfg.heartbeat)
		defer t.Stop()
		tick = t.C
	}
	// lastWrite is when the writer last wrote. A tick sends a heartbeat
	// unless something was written during the last half interval, so the
	// peer hears from this end at least every one and a half intervals.
	//
	// Large buffers go back to the pool when the writer is idle: at a tick
	// that sends a heartbeat (nothing else was written for half an
	// interval), or, without heartbeats, whenever it runs out of bytes.
	var out []byte
	var deadline time.Time // the write deadline set
	lastWrite := time.Now()
	g := newGatherer(s)
	defer g.stop()
	for {
		beat := false
		// g.done matters only while a gather given up on runs: a nil
		// channel is left out of the select, which then locks one channel
		// fewer each time the writer wakes.
		var gdone chan struct{}
		if g.busy {
			gdone = g.done
		}
		select {
		case <-gdone:
			g.busy = false // a gather given up on has finished
			continue
		case <-s.kick:
		case now := <-tick:
			if now.Sub(lastWrite) < s.cfg.heartbeat/2 {
				continue
			}
			s.wmu.Lock()
			if s.wstate != writeClosed {
				s.wbuf = append(s.wbuf, hb...)
			}
			s.wmu.Unlock()
			beat = true // nothing else was sent: no one to wait for
		case <-s.closing:
			return
		}
		tidy := beat || tick == nil
		for {
			if !beat && !g.gather() {
				return // closing
			}
			beat = false
			s.wmu.Lock()
			out, s.wbuf = s.wbuf, out[:0]
			if s.wwait != nil {
				close(s.wwait)
				s.wwait = nil
			}
			halfClose := len(out) == 0 && s.wstate == writeDraining
			if halfClose {
				s.wstate = writeClosed
			}
			if len(out) == 0 && tidy {
				s.wbuf, out = idleWriteBuffer(s.wbuf), idleWriteBuffer(out)
			}
			s.wmu.Unlock()
			if halfClose {
				s.halfClose()
				return
			}
			if len(out) == 0 {
				break
			}
			now, err := s.write(out, &deadline)
			g.wrote(now)
			if err != nil {
				s.fail(ReasonNetworkError, err)
				return
			}
			lastWrite = now
		}
	}
}

// write writes b with the write timeout and returns the time it started.
// *deadline is the write deadline set: like the read deadline, it moves
// only when less than the timeout is left, so a write may block for the
// write timeout and up to a sixteenth more.
func (s *Session) write(b []byte, deadline *time.Time) (time.Time, error) {
	now := time.Now()
	if t := s.cfg.writeTimeout; deadline.Sub(now) < t {
		*deadline = now.Add(withSlack(t))
		if err := s.conn.SetWriteDeadline(*deadline); err != nil {
			return now, err
		}
	}
	_, err := s.conn.Write(b)
	return now, err
}

type closeWriter interface{ CloseWrite() error }

// halfClose ends this side of the stream so the peer reads EOF. A
// connection that cannot half-close is closed.
func (s *Session) halfClose() {
	cw, ok := s.conn.(closeWriter)
	if !ok {
		s.fail(ReasonGraceful, nil)
		return
	}
	if err := cw.CloseWrite(); err != nil {
		s.fail(ReasonNetworkError, err)
	}
}

// maxGather is the size of queued bytes past which the writer writes
// without waiting for more.
const maxGather = 64 << 10

// maxGatherWait bounds how long a guarded writer waits for more bytes
// before a write: however busy the scheduler, queued packets and heartbeats
// go out this soon after they were queued (once the writer runs). A direct
// yield that takes longer turns guarding on (see gatherer).
const maxGatherWait = 2 * time.Millisecond

// gatherer lets the goroutines made runnable by the same event as a sender
// (callers woken by responses, handlers started by requests read together)
// queue their packets before the writer takes the queued bytes, so that one
// write carries them all.
//
// It yields in one of two ways. Directly, the writer calls runtime.Gosched
// itself: the cheapest way, but a goroutine that yields goes to the back of
// the global run queue, where on a saturated machine it may wait for
// seconds, and a writer waiting there sends nothing, heartbeats included.
// So the writer times each direct yield, and after one that took longer
// than maxGatherWait it yields through a short-lived goroutine instead for
// guardedFor: the writer waits for that goroutine at most maxGatherWait,
// and while a goroutine it gave up on has not finished, it writes without
// waiting, so a starved scheduler turns gathering off instead of silencing
// the connection. A slow scheduler thus costs a connection one slow yield
// per guardedFor at most.
type gatherer struct {
	s       *Session
	guarded time.Time     // until when yields go through a goroutine; zero: direct
	done    chan struct{} // capacity 1: the yielding goroutine has finished
	busy    bool          // a yielding goroutine has not finished
	grew    bool          // the last yield saw the queued bytes grow (set by it before done)
	skip    int           // rounds still to write without yielding
	vain    int           // yields in a row in which nothing grew
	timer   *time.Timer   // made on first use
	yield   func()        // made once: a go statement with arguments allocates
	direct  func() bool   // the direct yield: Session.yield (a test may slow it)
	started time.Time     // when the direct yield of this round began; zero: none
}

// guardedFor is how long a writer yields through a goroutine after a slow
// direct yield.
const guardedFor = 10 * time.Second

func newGatherer(s *Session) *gatherer {
	g := &gatherer{s: s, done: make(chan struct{}, 1), direct: s.yield}
	g.yield = func() {
		g.grew = s.yield()
		g.done <- struct{}{}
	}
	return g
}

func (g *gatherer) stop() {
	if g.timer != nil {
		g.timer.Stop()
	}
}

// gather waits, at most maxGatherWait, while the queued bytes grow. It
// returns false if the session began to close meanwhile.
func (g *gatherer) gather() bool {
	g.started = time.Time{}
	if g.busy {
		return true
	}
	if g.skip > 0 {
		g.skip--
		return true
	}
	if n := g.s.queuedLen(); n == 0 || n >= maxGather {
		return true
	}
	if g.guarded.IsZero() {
		// Timed from here to the write that follows (see wrote), which
		// reads the clock anyway.
		g.started = time.Now()
		g.tally(g.direct())
		return true
	}
	if time.Now().After(g.guarded) {
		g.guarded = time.Time{} // direct again from the next round
	}
	g.busy = true
	go g.yield()
	if g.timer == nil {
		g.timer = time.NewTimer(maxGatherWait)
	} else {
		g.timer.Reset(maxGatherWait)
	}
	select {
	case <-g.done:
		g.busy = false
		g.timer.Stop()
		g.tally(g.grew)
	case <-g.timer.C:
	case <-g.s.closing:
		return false
	}
	return true
}

// wrote notes that the round's write started at now: after a direct yield
// that took longer than maxGatherWait, yields are guarded for guardedFor.
func (g *gatherer) wrote(now time.Time) {
	if g.started.IsZero() {
		return
	}
	if now.Sub(g.started) > maxGatherWait {
		g.guarded = now.Add(guardedFor)
	}
	g.started = time.Time{}
}

// tally notes whether a yield found other senders. A yield costs a
// goroutine switch or two: when yields keep finding no other sender (one
// packet at a time), the next rounds write at once, more of them after
// each yield in vain.
func (g *gatherer) tally(grew bool) {
	if grew {
		g.vain = 0
	} else if g.vain = min(g.vain+1, 10); g.vain > 3 {
		g.skip = min(1<<(g.vain-4), maxGatherSkip)
	}
}

// maxGatherSkip is the most rounds the writer writes without yielding
// after yields in which no other sender queued bytes.
const maxGatherSkip = 64

// yield lets other goroutines run while the queued bytes grow, up to four
// times, and reports whether they grew. With nothing else to run, a yield
// returns at once, so a lone packet waits only for one look at the run
// queue.
func (s *Session) yield() (grew bool) {
	n := s.queuedLen()
	for range 4 {
		runtime.Gosched()
		m := s.queuedLen()
		if m == n {
			break
		}
		grew = true
		if m >= maxGather {
			break
		}
		n = m
	}
	return grew
}

func (s *Session) queuedLen() int {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return len(s.wbuf)
}

// encodeError is a packet the Protocol refused to encode.
type encodeError struct {
	kind Kind
	err  error
}

func (e *encodeError) Error() string { return fmt.Sprintf("netmessage: encode %s: %v", e.kind, e.err) }
func (e *encodeError) Unwrap() error { return e.err }

// refused reports whether send failed because of the packet itself (too
// large, or refused by the Protocol) rather than the connection.
func refused(err error) bool {
	var enc *encodeError
	return errors.Is(err, ErrPacketTooLarge) || errors.As(err, &enc)
}

// appendPacket is proto.Append, with a panic in it (a Protocol is user
// code) turned into an error: the packet is not sent, and the session,
// whose write lock the caller holds, goes on.
func appendPacket(proto Protocol, dst []byte, p Packet, info *CallInfo) (b []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			b, err = dst, fmt.Errorf("Protocol.Append: %w", &PanicError{Value: v, Stack: debug.Stack()})
		}
	}()
	if info != nil {
		return proto.(CallInfoProtocol).AppendInfo(dst, p, info)
	}
	return proto.Append(dst, p)
}
