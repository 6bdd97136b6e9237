package base

import (
	"context"
	"sync"
	"time"
)

// callCtx is the context of a request handler whose request carries call
// information (or that runs with a handler timeout): the session's context
// with the request's metadata and deadline, ended early by the caller's
// cancel or when the handler returns.
//
// It is built for the common case in which the handler never waits on it:
// it costs one allocation, its Done channel is made only when asked for,
// and it is not registered with the session's context (which would lock
// that context for every request). Err reads the clock against the
// deadline, so the deadline needs no timer either until Done is called.
type callCtx struct {
	parent   context.Context // the session's
	meta     Metadata
	deadline time.Time // zero: none
	// registered: in the session's calls, for the caller's cancel (set
	// by the reader before the handler starts).
	registered bool

	mu    sync.Mutex
	err   error
	done  chan struct{} // made by Done
	stops []func() bool // undo the watches Done set up
}

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
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if err := c.parent.Err(); err != nil {
		return err
	}
	if !c.deadline.IsZero() && !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// Done returns a channel closed when the context ends. The first call
// makes it and starts watching the deadline and the session's context.
func (c *callCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		return c.done
	}
	c.done = make(chan struct{})
	if c.err != nil {
		close(c.done)
		return c.done
	}
	if !c.deadline.IsZero() {
		t := time.AfterFunc(time.Until(c.deadline), func() { c.end(context.DeadlineExceeded) })
		c.stops = append(c.stops, t.Stop)
	}
	c.stops = append(c.stops, context.AfterFunc(c.parent, func() { c.end(c.parent.Err()) }))
	return c.done
}

// end ends the context with err, unless it has ended already.
func (c *callCtx) end(err error) {
	if err == context.Canceled && !c.deadline.IsZero() && !time.Now().Before(c.deadline) {
		err = context.DeadlineExceeded // as Err has said since the deadline
	}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	stops := c.stops
	c.stops = nil
	c.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
}

// cancel ends the context with context.Canceled: the caller gave up, or
// the handler returned.
func (c *callCtx) cancel() { c.end(context.Canceled) }

// String names the context, as the context package's do.
func (c *callCtx) String() string { return "base.callContext" }
