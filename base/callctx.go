package base

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// callCtx is the context of a request handler whose request carries call
// information (or that runs with a handler timeout): the session's context
// with the request's metadata and deadline, ended early by the caller's
// cancel or when the handler returns.
//
// It is built for the common case in which the handler never waits on it:
// it is one small allocation (64 bytes), ending it is one atomic operation,
// its Done channel and what watches the deadline and the session's context
// are made only when Done is called, and it is not registered with the
// session's context (which would lock that context for every request). Err
// reads the clock against the deadline, so the deadline needs no timer
// either until Done is called.
type callCtx struct {
	parent   context.Context // the session's
	meta     Metadata
	deadline time.Time // zero: none
	// state is how the context ended: one of the ended* constants, 0
	// while it runs.
	state atomic.Uint32
	// cancelable says that the caller may cancel: the session finds the
	// context by its request's id (Session.cancelled).
	cancelable bool
	done       atomic.Pointer[callDone] // made by Done
}

// callDone is the part of a callCtx that Done makes.
type callDone struct {
	mu     sync.Mutex
	ch     chan struct{}
	closed bool          // ch is closed
	stops  []func() bool // undo the watches Done set up
}

// How a callCtx ended (callCtx.state).
const (
	endedCanceled = 1 + iota // the caller cancelled or the handler returned
	endedDeadline            // the deadline passed
	endedParent              // the session's context ended
)

// newCallCtx returns a call context under parent that ends d after now (if
// d > 0).
func newCallCtx(parent context.Context, meta Metadata, d time.Duration) *callCtx {
	c := &callCtx{parent: parent, meta: meta}
	if d > 0 {
		c.deadline = time.Now().Add(d)
	}
	return c
}

// Deadline returns the handler's deadline: the caller's, or the handler
// timeout's, whichever is sooner.
func (c *callCtx) Deadline() (time.Time, bool) { return c.deadline, !c.deadline.IsZero() }

// past reports whether the deadline has passed.
func (c *callCtx) past() bool {
	return !c.deadline.IsZero() && !time.Now().Before(c.deadline)
}

// Value returns the request's metadata for IncomingMetadata, and the
// session's context's values otherwise.
func (c *callCtx) Value(key any) any {
	if key == (incomingKey{}) {
		if c.meta == nil {
			return nil
		}
		return c.meta
	}
	return c.parent.Value(key)
}

// Err returns context.Canceled once the caller cancelled, the handler
// returned or the session closed, and context.DeadlineExceeded once the
// deadline passed.
func (c *callCtx) Err() error {
	switch c.state.Load() {
	case endedCanceled:
		return context.Canceled
	case endedDeadline:
		return context.DeadlineExceeded
	case endedParent:
		return c.parent.Err()
	}
	if err := c.parent.Err(); err != nil {
		return err
	}
	if c.past() {
		return context.DeadlineExceeded
	}
	return nil
}

// Done returns a channel closed when the context ends. The first call
// makes it and starts watching the deadline and the session's context.
func (c *callCtx) Done() <-chan struct{} {
	d := c.done.Load()
	if d == nil {
		d = new(callDone)
		if !c.done.CompareAndSwap(nil, d) {
			d = c.done.Load()
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ch != nil {
		return d.ch
	}
	d.ch = make(chan struct{})
	if c.state.Load() != 0 {
		// end may have looked before d was there: close it here.
		close(d.ch)
		d.closed = true
		return d.ch
	}
	if dl, ok := c.Deadline(); ok {
		t := time.AfterFunc(time.Until(dl), func() { c.end(endedDeadline) })
		d.stops = append(d.stops, t.Stop)
	}
	d.stops = append(d.stops, context.AfterFunc(c.parent, func() { c.end(endedParent) }))
	return d.ch
}

// end ends the context as how says (an ended* constant), unless it has
// ended already. Until Done is called it is one atomic operation.
func (c *callCtx) end(how uint32) {
	if how == endedCanceled && c.past() {
		how = endedDeadline // as Err has said since the deadline
	}
	if !c.state.CompareAndSwap(0, how) {
		return
	}
	// Done publishes d before it reads state: if d is not there yet, Done
	// sees the state set here and closes the channel itself.
	d := c.done.Load()
	if d == nil {
		return
	}
	d.mu.Lock()
	if d.ch != nil && !d.closed {
		close(d.ch)
		d.closed = true
	}
	stops := d.stops
	d.stops = nil
	d.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
}

// cancel ends the context with context.Canceled: the caller gave up, or
// the handler returned.
func (c *callCtx) cancel() { c.end(endedCanceled) }

// String names the context, as the context package's do.
func (c *callCtx) String() string { return "base.callContext" }
