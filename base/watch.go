package base

import (
	"context"
	"errors"
)

// ctxWatch lets the callers of a session that wait with one shared
// context (a server's or a process's, say) wait on their call's channel
// alone: a select on both that and the context's Done channel locks the
// shared channel twice per call, and with many callers that lock is the
// most contended one in the process. Instead, one context.AfterFunc per
// session fails the calls of that context when it ends.
//
// The session watches one context at a time: the first one that has a
// request pending. A caller alone with its context selects as before (to
// arm the watch costs more than a select); from the second request with
// the same context, the watch is armed and the callers wait on their calls.
// When no request of that context is pending the watch is disarmed, so a
// context made for one request and cancelled after it never runs the
// function. Requests made with other contexts meanwhile select. It is
// guarded by the session's pmu.
type ctxWatch struct {
	done <-chan struct{} // the watched context's; nil: none
	n    int             // pending requests counted (call.counted)
	stop func() bool     // the armed AfterFunc's; nil: not armed
	gen  uint64          // counts armings, so a stale AfterFunc is ignored
}

// errCtxEnded is the result of a call whose caller's context ended first.
var errCtxEnded = errors.New("context ended")

// watchLocked counts the pending request c, whose caller waits with ctx,
// in the session's watch if it can, and reports whether the caller may
// wait on c.done alone. s.pmu is held.
func (s *Session) watchLocked(ctx context.Context, done <-chan struct{}, c *call) bool {
	w := &s.watch
	if w.done != done {
		if w.n > 0 {
			return false // another context is watched
		}
		w.done = done
	}
	w.n++
	c.counted = true
	if w.stop == nil {
		if w.n < 2 {
			return false
		}
		w.gen++
		gen := w.gen
		w.stop = context.AfterFunc(ctx, func() { s.watchEnded(gen) })
	}
	c.watched = true
	return true
}

// unwatchLocked takes c, no longer pending, out of the watch, and disarms
// the watch when it was the last. s.pmu is held.
func (s *Session) unwatchLocked(c *call) {
	if !c.counted {
		return
	}
	c.counted, c.watched = false, false
	w := &s.watch
	if w.n--; w.n > 0 {
		return
	}
	if w.stop != nil {
		w.stop()
		w.stop = nil
	}
	w.done = nil
}

// watchEnded runs when the watched context ends: it fails the calls that
// wait on their channel alone, as a select on the context would have.
func (s *Session) watchEnded(gen uint64) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	w := &s.watch
	if w.stop == nil || w.gen != gen {
		return // disarmed since
	}
	w.stop = nil // it ran: there is nothing to stop
	s.pending.each(func(c *call) {
		if c.watched {
			s.unpendLocked(c)
			s.abandon(c.id)
			c.done <- result{err: errCtxEnded}
		}
	})
}
