package base

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"
)

// maxAbandoned bounds the ids of requests given up on (timed out or
// cancelled) whose late responses are tolerated.
const maxAbandoned = 4096

// call is an outgoing request waiting for its response. Calls are pooled.
type call struct {
	done chan result // capacity 1

	// The response is appended to dst when appendTo is set (RequestAppend),
	// else cloned (Request).
	dst      []byte
	appendTo bool

	// Requests waiting with the response timeout are linked in the
	// session's timeouts list, oldest first.
	id         uint32
	expiry     uint64 // the timeouts tick at which it fails
	prev, next *call
	linked     bool

	// counted: counted in the session's watch (its context's Done is the
	// watch's); watched: its caller waits on done alone, and the watch
	// fails it when the context ends (see watch.go).
	counted, watched bool
}

type result struct {
	payload []byte
	err     error
}

// newCallPool returns the pool of the calls of one Server's or Client's
// sessions. Calls are pooled by end rather than in one pool for the
// process because a call holds a channel, and a channel made in a
// testing/synctest bubble must not be used outside it (nor one made
// outside waited on inside): an end made in a bubble keeps its calls there.
func newCallPool() *sync.Pool {
	return &sync.Pool{New: func() any { return &call{done: make(chan result, 1)} }}
}

// timeoutList holds the requests that wait with the session's response
// timeout, in the order sent. Every such request has the same timeout, so
// rather than a timer each, the list has one timer that ticks while the
// list is not empty, every step: a thirty-second of the timeout (at least
// a millisecond). The ticks keep to a schedule fixed when they start (tick
// k is due at start + k steps), so the timer's own lateness does not add
// up from tick to tick.
//
// Sending a request reads no clock: it is linked at the tail, and the
// first tick after it gives it its expiry, n+1 ticks after that tick's
// (by the clock), n steps making the timeout. As it was sent before that
// tick ran, it fails at least the timeout after it was sent, and at most
// two steps (a sixteenth of the timeout) later when the timer is on time.
// The request that starts the ticks fails at tick n, on its timeout. The
// list is guarded by the session's pmu.
type timeoutList struct {
	head, tail *call
	fresh      *call       // the first request linked since the last tick; nil: none
	tick       uint64      // the last tick run
	start      time.Time   // when the ticks started: tick k is due at start + k steps
	timer      *time.Timer // runs Session.expire; made on first use
	armed      bool
}

// timeoutStep returns the tick interval for a response timeout and the
// number of ticks that make the timeout.
func timeoutStep(timeout time.Duration) (time.Duration, uint64) {
	step := max(timeout/32, time.Millisecond)
	return step, uint64((timeout-1)/step + 1) // rounded up; timeout + step may overflow
}

// add links c at the tail and starts the ticks if they are stopped.
func (l *timeoutList) add(s *Session, c *call) {
	c.prev, c.next, c.linked = l.tail, nil, true
	if l.tail != nil {
		l.tail.next = c
	} else {
		l.head = c
	}
	l.tail = c
	if l.armed {
		if l.fresh == nil {
			l.fresh = c
		}
		c.expiry = 0 // set by the next tick
		return
	}
	// The list is empty: the ticks start now, with c.
	step, n := timeoutStep(s.cfg.responseTimeout)
	l.tick, l.start, l.armed = 0, time.Now(), true
	c.expiry = n
	if l.timer == nil {
		l.timer = time.AfterFunc(step, s.expire)
	} else {
		l.timer.Reset(step)
	}
}

// remove unlinks c if it is linked.
func (l *timeoutList) remove(c *call) {
	if !c.linked {
		return
	}
	if l.fresh == c {
		l.fresh = c.next
	}
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		l.tail = c.prev
	}
	c.prev, c.next, c.linked = nil, nil, false
}

// clear unlinks every request and stops the ticks.
func (l *timeoutList) clear() {
	for c := l.head; c != nil; {
		next := c.next
		c.prev, c.next, c.linked = nil, nil, false
		c = next
	}
	l.head, l.tail, l.fresh = nil, nil, nil
	if l.timer != nil {
		l.timer.Stop()
	}
	l.armed = false
}

// Request sends a request and waits for its response, which belongs to the
// caller. It fails with ErrRequestTimeout (a net.Error with Timeout() true)
// after the response timeout, with ctx's error when ctx ends first, and at
// once with an error matching ErrClosed (the *CloseError) when the
// connection closes. Over a CallInfoProtocol (the native protocol), the
// request carries ctx's outgoing metadata (AppendMetadata) and deadline,
// and giving up cancels it at the peer when ctx can end: see docs/calls.md
// ("Metadata, deadlines and cancel").
func (s *Session) Request(ctx context.Context, payload []byte) ([]byte, error) {
	return s.request(ctx, nil, false, payload)
}

// RequestAppend is Request that appends the response payload to dst and
// returns the extended slice, or dst and an error. A caller that reuses its
// buffer receives without allocating.
func (s *Session) RequestAppend(ctx context.Context, dst, payload []byte) ([]byte, error) {
	return s.request(ctx, dst, true, payload)
}

func (s *Session) request(ctx context.Context, dst []byte, appendTo bool, payload []byte) ([]byte, error) {
	if s.draining.Load() {
		return dst, s.closedErr()
	}
	// The response timeout applies unless ctx ends first anyway. A
	// protocol that carries call information tells the peer when this end
	// gives up (if ctx has a deadline), and whether it may cancel.
	p := Packet{Kind: KindRequest, Payload: payload}
	var info CallInfo
	timed := true
	var giveUp time.Time // when this end gives up, where the peer is told
	if dl, ok := ctx.Deadline(); ok {
		now := time.Now()
		left := dl.Sub(now)
		timed = left > s.cfg.responseTimeout
		if s.cip != nil {
			info.Timeout = max(min(left, s.cfg.responseTimeout), time.Microsecond)
			giveUp = now.Add(info.Timeout)
		}
	}
	if s.cip != nil {
		info.Cancelable = ctx.Done() != nil
	}
	if err := s.setMeta(ctx, &info); err != nil {
		return dst, err
	}
	c := s.cfg.calls.Get().(*call)
	c.dst, c.appendTo = dst, appendTo
	s.pmu.Lock()
	if s.pclosed != nil {
		err := s.pclosed
		s.pmu.Unlock()
		c.dst = nil
		s.cfg.calls.Put(c)
		return dst, err
	}
	s.pending.reserve()
	id := s.nextID
	for s.inUse(id) {
		id++
	}
	s.nextID = id + 1
	c.id = id
	s.pending.put(c)
	if timed {
		s.timeouts.add(s, c)
	}
	done := ctx.Done()
	watched := done != nil && s.watchLocked(ctx, done, c)
	s.pmu.Unlock()

	p.ID = id
	var r result
	switch err := s.send(ctx, p, info.orNil(), sendUser, c.done); {
	case err == errResolved:
		// The call ended while it waited for room in the write buffer
		// (its response timeout, ctx through the watch, the close): it
		// was not sent, so there is nothing to cancel.
		r = <-c.done
		info.Cancelable = false
	case err != nil:
		s.forget(id, c, false)
		return dst, err
	case done == nil || watched:
		r = <-c.done
	default:
		select {
		case r = <-c.done:
		case <-done:
			s.forget(id, c, true) // gives c back to the pool
			return dst, s.gaveUp(ctx, id, info.Cancelable)
		}
	}
	c.dst = nil
	s.cfg.calls.Put(c)
	if r.err == errCtxEnded {
		return dst, s.gaveUp(ctx, id, info.Cancelable)
	}
	if r.err != nil {
		if r.err == ErrRequestTimeout && info.Cancelable {
			s.cancelCall(id)
		}
		return dst, r.err
	}
	if info.Timeout > 0 {
		// An answer that comes once this end has given up (such as the
		// handler's own "deadline exceeded", its context having been told
		// that time) loses to the deadline or the response timeout,
		// whichever of the two the wait would have seen first.
		if err := ctx.Err(); err != nil {
			return dst, err
		}
		if now := time.Now(); !now.Before(giveUp) {
			if dl, _ := ctx.Deadline(); !now.Before(dl) {
				return dst, context.DeadlineExceeded
			}
			return dst, ErrRequestTimeout
		}
	}
	return r.payload, nil
}

// gaveUp returns ctx's error for a request id given up on because ctx
// ended, and tells the peer if the request can be cancelled.
func (s *Session) gaveUp(ctx context.Context, id uint32, cancelable bool) error {
	if cancelable {
		s.cancelCall(id)
	}
	return ctx.Err()
}

// inUse reports whether id cannot be handed out: its slot in the pending
// requests is taken, or a late response to it may still come.
func (s *Session) inUse(id uint32) bool {
	if s.pending.taken(id) {
		return true
	}
	if len(s.abandoned) == 0 {
		return false
	}
	_, ok := s.abandoned[id]
	return ok
}

// forget removes a request the caller no longer waits for. If it was sent
// (abandon), its id is remembered so that a late response is not taken for
// a protocol error.
func (s *Session) forget(id uint32, c *call, abandon bool) {
	s.pmu.Lock()
	if s.pending.get(id) != c {
		// Its result is being delivered: take it so the call is clean.
		s.pmu.Unlock()
		<-c.done
		c.dst = nil
		s.cfg.calls.Put(c)
		return
	}
	s.unpendLocked(c)
	if abandon {
		s.abandon(id)
	}
	s.pmu.Unlock()
	c.dst = nil
	s.cfg.calls.Put(c)
}

// unpendLocked takes c out of the pending requests, the timeouts list and
// the watch: its result is about to be delivered, or its caller gave up.
// s.pmu is held.
func (s *Session) unpendLocked(c *call) {
	s.pending.remove(c)
	s.timeouts.remove(c)
	s.unwatchLocked(c)
}

// abandon remembers the id of a request given up on. s.pmu is held.
func (s *Session) abandon(id uint32) {
	if s.pclosed != nil {
		return
	}
	if s.abandoned == nil {
		s.abandoned = make(map[uint32]struct{})
	}
	if len(s.abandonQ) >= maxAbandoned {
		delete(s.abandoned, s.abandonQ[0])
		s.abandonQ = s.abandonQ[1:]
	}
	s.abandoned[id] = struct{}{}
	s.abandonQ = append(s.abandonQ, id)
}

// expire is a tick of the timeouts list: it fails the requests whose
// response timeout has passed, and sets the timer for the next tick while
// requests wait. It runs in the timer's goroutine.
func (s *Session) expire() {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	l := &s.timeouts
	if !l.armed {
		return // cleared by failPending
	}
	// This is the tick the clock says: a late timer catches up at once.
	step, n := timeoutStep(s.cfg.responseTimeout)
	now := time.Now()
	l.tick = max(l.tick+1, uint64(now.Sub(l.start)/step))
	for c := l.fresh; c != nil; c = c.next {
		c.expiry = l.tick + n + 1
	}
	l.fresh = nil
	for c := l.head; c != nil && c.expiry <= l.tick; c = l.head {
		s.unpendLocked(c)
		s.abandon(c.id)
		c.done <- result{err: ErrRequestTimeout}
	}
	if l.head == nil {
		l.armed = false
		return
	}
	// The next tick is due l.tick+1 steps after the start, however late
	// this one ran.
	l.timer.Reset(l.start.Add(time.Duration(l.tick+1) * step).Sub(now))
}

// resolve hands a response to its caller. A response to an id never sent,
// or already answered, is an error: a protocol error unless
// WithSkipUnknownResponses is set.
func (s *Session) resolve(id uint32, payload []byte) error {
	s.pmu.Lock()
	c := s.pending.get(id)
	ok := c != nil
	if ok {
		s.unpendLocked(c)
	} else if _, late := s.abandoned[id]; late {
		delete(s.abandoned, id) // stays in abandonQ until it rolls out
		s.pmu.Unlock()
		return nil
	}
	s.pmu.Unlock()
	if !ok {
		return fmt.Errorf("%w %d", ErrUnknownResponse, id)
	}
	// The caller waits for done (or, having given up, in forget), so c.dst
	// is not in use elsewhere.
	if c.appendTo {
		c.done <- result{payload: append(c.dst, payload...)}
	} else {
		c.done <- result{payload: bytes.Clone(payload)}
	}
	return nil
}

// failPending fails every pending request with err and refuses new ones.
func (s *Session) failPending(err *CloseError) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	if s.pclosed == nil {
		s.pclosed = err
	}
	s.timeouts.clear()
	s.pending.each(func(c *call) {
		s.unpendLocked(c)
		c.done <- result{err: s.pclosed}
	})
}
