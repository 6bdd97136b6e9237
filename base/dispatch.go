package base

import (
	"runtime/debug"
	"sync"
)

// inbound is an item for the dispatcher: a message payload or an error.
type inbound struct {
	buf *[]byte
	err error
}

// job is a received request waiting for or in a handler.
type job struct {
	id  uint32
	buf *[]byte
}

// fifo is a queue that reuses its slice.
type fifo[T any] struct {
	items []T
	head  int
}

func (q *fifo[T]) push(v T) { q.items = append(q.items, v) }

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
	for {
		if it, ok := s.pop(); ok {
			s.deliver(it)
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
		return
	}
	payload := *it.buf
	defer func() {
		putBuf(it.buf)
		s.release(len(payload))
	}()
	s.callHook(func() { s.cfg.onMessage(s, payload) })
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

// startJob runs a request handler, or queues the request while the limit of
// concurrent handlers is reached.
func (s *Session) startJob(j job) {
	s.imu.Lock()
	if s.active >= s.cfg.maxRequests {
		s.backlog.push(j)
		s.imu.Unlock()
		return
	}
	s.active++
	s.imu.Unlock()
	go s.serve(j)
}

// serve runs handlers until the backlog is empty.
func (s *Session) serve(j job) {
	for {
		s.runHandler(j)
		s.imu.Lock()
		next, ok := s.backlog.pop()
		if !ok {
			s.active--
			if s.active == 0 && s.idleCh != nil {
				close(s.idleCh)
				s.idleCh = nil
			}
			s.imu.Unlock()
			return
		}
		s.imu.Unlock()
		j = next
	}
}

func (s *Session) runHandler(j job) {
	payload := *j.buf
	defer func() {
		putBuf(j.buf)
		s.release(len(payload))
		if r := recover(); r != nil {
			s.report(&PanicError{Value: r, Stack: debug.Stack()})
		}
	}()
	resp := s.cfg.onRequest(s.ctx, s, payload)
	if err := s.send(s.ctx, Packet{Kind: KindResponse, ID: j.id, Payload: resp}, false); err != nil && s.Err() == nil {
		s.report(err)
	}
}

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
