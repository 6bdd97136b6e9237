package base

import (
	"context"
	"errors"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// inbound is an item for the dispatcher: a message payload or an error,
// each counted in Session.queued (see acquire and pushErr).
type inbound struct {
	buf  *[]byte
	meta Metadata
	err  error
}

// job is a received request waiting for or in a handler.
type job struct {
	id   uint32
	meta int32 // the bytes of its metadata, counted with the payload
	buf  *[]byte
	// call is the request's own context, for a request with call
	// information or with a handler timeout; nil: the session's.
	call *callCtx
}

// worker is a handler goroutine's entry among the session's workers
// (guarded by imu): the caller's cancel finds the context of the request
// in hand there.
type worker struct {
	id   uint32
	call *callCtx // the request in hand's, if it is cancelable
	idx  int      // its place in Session.workers
}

// fifo is a queue that reuses its slice, unless a burst made it large.
type fifo[T any] struct {
	items []T
	head  int
}

// maxKeptQueue is the largest capacity an emptied fifo keeps.
const maxKeptQueue = 256

func (q *fifo[T]) push(v T) { q.items = append(q.items, v) }

func (q *fifo[T]) len() int { return len(q.items) - q.head }

func (q *fifo[T]) pop() (T, bool) {
	var zero T
	if q.head == len(q.items) {
		return zero, false
	}
	v := q.items[q.head]
	q.items[q.head] = zero
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
		if cap(q.items) > maxKeptQueue {
			q.items = nil
		}
	}
	return v, true
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

const maxPooledBuffer = 64 << 10

// getBuf returns a pooled copy of p.
func getBuf(p []byte) *[]byte {
	b := bufPool.Get().(*[]byte)
	*b = append((*b)[:0], p...)
	return b
}

func putBuf(b *[]byte) {
	if cap(*b) <= maxPooledBuffer {
		bufPool.Put(b)
	}
}

// push queues an item for the dispatcher.
func (s *Session) push(it inbound) {
	s.imu.Lock()
	s.inbox.push(it)
	s.imu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *Session) pop() (inbound, bool) {
	s.imu.Lock()
	defer s.imu.Unlock()
	return s.inbox.pop()
}

// dispatch is the dispatcher goroutine: it runs the hooks in order: opened,
// then each message and error in the order received, then (after the reader
// and writer stopped) closed and, if an error caused the close, error.
func (s *Session) dispatch() {
	defer close(s.done)
	if f := s.cfg.onOpened; f != nil {
		s.callHook(func() { f(s) })
	}
	// The dispatcher takes everything queued at once, swapping the inbox
	// with its own emptied queue, and delivers it without the lock.
	var taken fifo[inbound]
	for {
		s.imu.Lock()
		s.inbox, taken = taken, s.inbox
		s.imu.Unlock()
		if taken.len() > 0 {
			for it, ok := taken.pop(); ok; it, ok = taken.pop() {
				s.deliver(it)
			}
			continue
		}
		select {
		case <-s.notify:
			continue
		case <-s.readerDone:
		}
		// The reader has stopped: deliver what it left.
		for it, ok := s.pop(); ok; it, ok = s.pop() {
			s.deliver(it)
		}
		break
	}
	<-s.writerDone
	ce := s.closeErr.Load()
	if f := s.cfg.onClosed; f != nil {
		s.callHook(func() { f(s, ce.Reason) })
	}
	if ce.Err != nil {
		s.report(ce)
	}
	<-s.idle()
	if s.onEnd != nil {
		s.onEnd(s)
	}
}

func (s *Session) deliver(it inbound) {
	if it.err != nil {
		s.report(it.err)
		s.release(itemOverhead) // see pushErr
		return
	}
	payload := *it.buf
	defer func() {
		putBuf(it.buf)
		s.release(s.cfg.payloadCost(len(payload) + it.meta.Size()))
	}()
	ctx := withIncoming(s.ctx, it.meta)
	s.callHook(func() { s.cfg.handler.ServeMessage(ctx, s, payload) })
}

// callHook runs a user hook, turning a panic into an error event.
func (s *Session) callHook(f func()) {
	defer func() {
		if r := recover(); r != nil {
			s.report(&PanicError{Value: r, Stack: debug.Stack()})
		}
	}()
	f()
}

// report raises an error event. It runs on the dispatcher, or on a handler
// goroutine for a handler's panic. A panic in the error hook is dropped.
func (s *Session) report(err error) {
	f := s.cfg.onError
	if f == nil {
		return
	}
	defer func() { _ = recover() }()
	f(s, err)
}

// handlerState is what the dispatch code keeps about the request handler
// goroutines besides their number (Session.active). It is guarded by the
// session's imu.
type handlerState struct {
	serve func() // Session.serve, made once: go serve() allocates nothing
	// starting counts handler goroutines started (or woken) that have not
	// yet taken a request from the backlog.
	starting int
	// parked says that a handler goroutine that found the backlog empty
	// waits on wake for handlerLinger before it ends (see park). It does
	// not count in the session's active handlers.
	parked bool
	wake   chan bool // capacity 1, made at the first park: true to take a request, false to end
	// The linger check (lingerCheck): its timer, made at the first park;
	// whether it is set; parks counts parks, and checked is its value when
	// the check was set.
	linger         *time.Timer
	checking       bool
	parks, checked uint64
	// returning counts handler goroutines whose handler has returned and
	// that will take the next request from the backlog themselves once
	// their answer is queued: no goroutine is started for a request while
	// one is (a peer that sends its next request as soon as it has the
	// answer would otherwise make the sessions alternate between two).
	returning atomic.Int32
}

// handlerLinger is how long, at least (and at most twice that), a handler
// goroutine waits for the next request before it ends: a session that
// serves one request at a time (a peer that waits for each answer) then
// runs them all on one goroutine, instead of starting one for each and
// growing its stack again for every request.
const handlerLinger = 200 * time.Millisecond

// startJob queues a request for a handler goroutine. A new goroutine is
// started only if none is starting already and the limit of concurrent
// handlers allows; see serve.
func (s *Session) startJob(j job) {
	s.imu.Lock()
	if s.draining.Load() {
		// Disconnect began while the reader held this request (its check
		// of the running handlers takes s.imu after it set draining, so it
		// cannot miss a request queued here): not accepted, like a request
		// read after that; the peer's call fails when the connection closes.
		s.imu.Unlock()
		s.endJob(j)
		return
	}
	s.backlog.push(j)
	s.spawnLocked()
	s.imu.Unlock()
}

// endJob lets go of a request that is done with, answered or not: its
// buffer, its context and what it held among the received bytes.
func (s *Session) endJob(j job) {
	n := len(*j.buf)
	putBuf(j.buf)
	if j.call != nil {
		j.call.cancel()
	}
	s.release(s.cfg.payloadCost(n + int(j.meta)))
}

// linkWorkerLocked adds a handler goroutine's entry. s.imu is held.
func (s *Session) linkWorkerLocked(w *worker) {
	w.idx = len(s.workers)
	s.workers = append(s.workers, w)
}

// unlinkWorkerLocked removes a handler goroutine's entry, moving the last
// one into its place. s.imu is held.
func (s *Session) unlinkWorkerLocked(w *worker) {
	last := s.workers[len(s.workers)-1]
	s.workers[w.idx], last.idx = last, w.idx
	s.workers[len(s.workers)-1] = nil
	s.workers = s.workers[:len(s.workers)-1]
	w.call = nil
}

// spawnLocked starts a handler goroutine if requests wait, none is
// starting and the limit allows. s.imu is held.
func (s *Session) spawnLocked() {
	h := &s.handlers
	if h.starting > 0 || h.returning.Load() > 0 || s.active >= s.cfg.maxRequests || s.backlog.len() == 0 {
		return
	}
	h.starting++
	s.active++
	if h.parked {
		h.parked = false
		h.wake <- true // one parks at a time: the buffer has room
		return
	}
	if h.serve == nil {
		h.serve = s.serve
	}
	go h.serve()
}

// park waits, with s.imu held on entry and on return, for spawnLocked to
// hand this handler goroutine the next request, for about handlerLinger
// (at most twice that). It reports whether it was handed one (then it
// counts in active and starting again); false when another goroutine is
// parked already, the session is closing, or the linger ended first: then
// the goroutine ends.
//
// A park costs a receive from one channel: no timer is set for it. One
// check (lingerCheck) runs every handlerLinger while goroutines park, and
// ends the parked goroutine if it has not been woken since the check
// before.
func (s *Session) park() bool {
	h := &s.handlers
	if h.parked {
		return false
	}
	select {
	case <-s.closing:
		return false
	default:
	}
	if h.wake == nil {
		h.wake = make(chan bool, 1)
	}
	h.parked = true
	h.parks++
	if !h.checking {
		h.checking, h.checked = true, h.parks
		if h.linger == nil {
			h.linger = time.AfterFunc(handlerLinger, s.lingerCheck)
		} else {
			h.linger.Reset(handlerLinger)
		}
	}
	s.imu.Unlock()
	take := <-h.wake
	s.imu.Lock()
	return take
}

// lingerCheck ends the parked handler goroutine if it has stayed parked
// since the last check, else checks again handlerLinger later. It runs in
// the linger timer's goroutine.
func (s *Session) lingerCheck() {
	s.imu.Lock()
	defer s.imu.Unlock()
	h := &s.handlers
	h.checking = false
	if !h.parked {
		return // the next park sets the check again
	}
	if h.parks != h.checked {
		// It parked again since: it may have waited less than the linger.
		h.checking, h.checked = true, h.parks
		h.linger.Reset(handlerLinger)
		return
	}
	h.parked = false
	h.wake <- false
}

// unparkLocked ends the parked handler goroutine, if any, and stops the
// linger checks: the session is closing. s.imu is held.
func (s *Session) unparkLocked() {
	h := &s.handlers
	if h.parked {
		h.parked = false
		h.wake <- false
	}
	if h.linger != nil {
		h.linger.Stop()
		h.checking = false
	}
}

// serve is a handler goroutine: it runs handlers until the backlog is
// empty. Before it runs a handler it starts another goroutine if requests
// are still waiting, so each waiting request soon has a goroutine of its
// own even when handlers block; when handlers are quick, one goroutine
// runs many requests in turn and few goroutines are started.
func (s *Session) serve() {
	first, ended := true, false
	w := new(worker)
	s.imu.Lock()
	s.linkWorkerLocked(w)
	s.imu.Unlock()
	defer func() {
		if !ended {
			// A handler called runtime.Goexit (t.FailNow, say): this
			// goroutine ends without taking the next request. Count it
			// out, and let another take the requests waiting.
			s.imu.Lock()
			s.unlinkWorkerLocked(w)
			s.endHandlerLocked()
			s.spawnLocked()
			s.imu.Unlock()
		}
	}()
	returned := false // the last handler returned: counted in returning
	for {
		s.imu.Lock()
		if first {
			s.handlers.starting--
			first = false
		}
		if returned {
			// Under the lock that pops the next request: spawnLocked
			// cannot start a goroutine for a request this one takes.
			s.handlers.returning.Add(-1)
			returned = false
		}
		w.call = nil
		j, ok := s.backlog.pop()
		if !ok {
			s.endHandlerLocked()
			if s.park() {
				first = true // woken as a started one: counted in starting
				s.imu.Unlock()
				continue
			}
			ended = true
			s.unlinkWorkerLocked(w)
			s.imu.Unlock()
			return
		}
		if c := j.call; c != nil && c.cancelable {
			w.id, w.call = j.id, c // for the caller's cancel
		}
		s.spawnLocked()
		s.imu.Unlock()
		returned = s.runHandler(j)
	}
}

// endHandlerLocked counts out a handler goroutine. s.imu is held.
func (s *Session) endHandlerLocked() {
	s.active--
	if s.active == 0 && s.idleCh != nil {
		close(s.idleCh)
		s.idleCh = nil
	}
}

// runHandler runs the request handler for j and sends its answer. It
// reports whether the handler returned (rather than panicked or called
// runtime.Goexit): then it counted itself in returning.
func (s *Session) runHandler(j job) (returned bool) {
	payload := *j.buf
	completed := false
	var ctx context.Context = s.ctx
	if j.call != nil {
		ctx = j.call
	}
	defer func() {
		s.endJob(j)
		if r := recover(); r != nil {
			s.report(&PanicError{Value: r, Stack: debug.Stack()})
		} else if !returned {
			s.report(errGoexit)
		} else if !completed {
			// runtime.Goexit after the handler returned: this goroutine
			// ends here and takes no next request.
			s.handlers.returning.Add(-1)
		}
	}()
	resp := s.cfg.handler.ServeRequest(ctx, s, payload)
	returned = true
	s.handlers.returning.Add(1)
	err := s.send(s.ctx, Packet{Kind: KindResponse, ID: j.id, Payload: resp}, nil, sendResponse, nil)
	s.releaseResponse(resp) // send copied it, or gave up
	if err != nil && s.Err() == nil {
		s.report(err)
		if refused(err) {
			// One try at an answer in its place; if that is refused too,
			// the event just raised already says why the caller waits.
			if alt := s.cfg.handler.ServeUnsendable(s, err); alt != nil {
				_ = s.send(s.ctx, Packet{Kind: KindResponse, ID: j.id, Payload: alt}, nil, sendResponse, nil)
				s.releaseResponse(alt)
			}
		}
	}
	completed = true
	return returned
}

// releaseResponse gives a response back to a handler that wants it.
func (s *Session) releaseResponse(resp []byte) {
	if r := s.cfg.releaser; r != nil && resp != nil {
		r.ReleaseResponse(resp)
	}
}

// errGoexit is the error event for a request handler that called
// runtime.Goexit: the request is not answered.
var errGoexit = errors.New("netmessage: request handler called runtime.Goexit; request not answered")

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// idle returns a channel closed when no request handler runs.
func (s *Session) idle() <-chan struct{} {
	s.imu.Lock()
	defer s.imu.Unlock()
	if s.active == 0 {
		return closedChan
	}
	if s.idleCh == nil {
		s.idleCh = make(chan struct{})
	}
	return s.idleCh
}

// startCall gives a received request with call information (or any
// request, with a handler timeout) a context of its own: the session's,
// with its metadata, ended by the caller's deadline or the handler timeout,
// whichever is sooner, and, if the caller may cancel, by its cancel. It
// runs on the reader.
func (s *Session) startCall(j *job, in *CallInfo) {
	if in.isZero() && s.cfg.handlerTimeout <= 0 {
		return
	}
	var info CallInfo
	if in != nil {
		info = *in
	}
	d := info.Timeout
	if t := s.cfg.handlerTimeout; t > 0 && (d <= 0 || t < d) {
		d = t
	}
	j.call = newCallCtx(s.ctx, info.Meta, d)
	j.call.cancelable = info.Cancelable
}

// cancelled ends the context of the request id, whose caller gave up,
// found in the handler goroutine that has it or among the waiting ones. A
// cancel is rare, so it searches; a request costs nothing more than a
// field set.
func (s *Session) cancelled(id uint32) {
	var c *callCtx
	s.imu.Lock()
	for _, w := range s.workers {
		if w.call != nil && w.id == id {
			c, w.call = w.call, nil
			break
		}
	}
	if c == nil {
		q := &s.backlog
		for _, j := range q.items[q.head:] {
			if j.id == id && j.call != nil && j.call.cancelable {
				c = j.call
				break
			}
		}
	}
	s.imu.Unlock()
	if c != nil {
		c.cancel()
	}
}
