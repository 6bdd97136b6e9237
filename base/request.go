package base

import (
	"bytes"
	"context"
	"sync"
	"time"
)

// maxAbandoned bounds the ids of requests given up on (timed out or
// cancelled) whose late responses are tolerated.
const maxAbandoned = 4096

// call is an outgoing request waiting for its response. Calls are pooled.
type call struct {
	done  chan result // capacity 1
	timer *time.Timer
}

type result struct {
	payload []byte
	err     error
}

var callPool = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &call{done: make(chan result, 1), timer: t}
}}

// Request sends a request and waits for its response. It fails with
// ErrRequestTimeout (a net.Error with Timeout() true) after the response
// timeout, with ctx's error when ctx ends first, and at once with the
// *CloseError when the connection closes. The returned payload belongs to
// the caller.
func (s *Session) Request(ctx context.Context, payload []byte) ([]byte, error) {
	if s.draining.Load() {
		return nil, s.closedErr()
	}
	c := callPool.Get().(*call)
	s.pmu.Lock()
	if s.pclosed != nil {
		err := s.pclosed
		s.pmu.Unlock()
		callPool.Put(c)
		return nil, err
	}
	id := s.nextID
	for s.inUse(id) {
		id++
	}
	s.nextID = id + 1
	s.pending[id] = c
	s.pmu.Unlock()

	if err := s.send(ctx, Packet{Kind: KindRequest, ID: id, Payload: payload}, true); err != nil {
		s.forget(id, c, false)
		return nil, err
	}
	var expired <-chan time.Time
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > s.cfg.responseTimeout {
		c.timer.Reset(s.cfg.responseTimeout)
		expired = c.timer.C
	}
	select {
	case r := <-c.done:
		c.timer.Stop()
		callPool.Put(c)
		return r.payload, r.err
	case <-expired:
		s.forget(id, c, true)
		return nil, ErrRequestTimeout
	case <-ctx.Done():
		c.timer.Stop()
		s.forget(id, c, true)
		return nil, ctx.Err()
	}
}

func (s *Session) inUse(id uint32) bool {
	if _, ok := s.pending[id]; ok {
		return true
	}
	_, ok := s.abandoned[id]
	return ok
}

// forget removes a request the caller no longer waits for. If it was sent
// (abandon), its id is remembered so that a late response is not taken for
// a protocol error.
func (s *Session) forget(id uint32, c *call, abandon bool) {
	s.pmu.Lock()
	if s.pending[id] != c {
		// Its result is being delivered: take it so the call is clean.
		s.pmu.Unlock()
		<-c.done
		callPool.Put(c)
		return
	}
	delete(s.pending, id)
	if abandon && s.pclosed == nil {
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
	s.pmu.Unlock()
	callPool.Put(c)
}

// resolve hands a response to its caller. A response to an id never sent,
// or already answered, is a protocol error.
func (s *Session) resolve(id uint32, payload []byte) error {
	s.pmu.Lock()
	c, ok := s.pending[id]
	if ok {
		delete(s.pending, id)
	} else if _, late := s.abandoned[id]; late {
		delete(s.abandoned, id) // stays in abandonQ until it rolls out
		s.pmu.Unlock()
		return nil
	}
	s.pmu.Unlock()
	if !ok {
		return ErrUnknownResponse
	}
	c.done <- result{payload: bytes.Clone(payload)}
	return nil
}

// failPending fails every pending request with err and refuses new ones.
func (s *Session) failPending(err *CloseError) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	if s.pclosed == nil {
		s.pclosed = err
	}
	for id, c := range s.pending {
		delete(s.pending, id)
		c.done <- result{err: s.pclosed}
	}
}
