package base

import (
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// budget is a server's bound on the bytes all its sessions hold for input
// (see WithMaxInflightBytes): a weighted semaphore whose waiters are served
// in the order they came, so that a large take is not starved by a stream
// of small ones. A take larger than the whole budget is clipped to it by
// its caller (clip): it waits until the budget is empty, and then fits.
//
// A take that fits while no take waits, and a give while none waits, cost
// one atomic operation or two: the lock is for the waiters.
type budget struct {
	limit int64
	used  atomic.Int64
	// queued counts the takes waiting, or about to wait: while it is not
	// zero, new takes queue behind them and gives grant them. A take
	// counts itself in before it looks at used a last time, and a give
	// looks at queued after it lowers used, so no give misses a waiter
	// that would fit.
	queued atomic.Int64

	mu      sync.Mutex
	waiters []*budgetWaiter // in arrival order
}

type budgetWaiter struct {
	n, own int64
	ready  chan struct{} // closed when granted
}

func newBudget(limit int64) *budget { return &budget{limit: limit} }

// clip returns what a take of n may ask for: n, or the whole budget if n
// is more. Callers clip, and give back exactly what they took.
func (b *budget) clip(n int64) int64 { return min(n, b.limit) }

// take takes n bytes (n <= limit, see clip), waiting while they do not fit
// behind the takes already waiting. own is what the taker holds already and
// is about to give back (a read buffer whose packet this take is for): it
// counts as room. take returns nil once the bytes are taken, or, having taken
// nothing, errStop when stop is closed and errExpired when expire fires
// first (either may be nil).
func (b *budget) take(n, own int64, stop <-chan struct{}, expire <-chan time.Time) error {
	if b.queued.Load() == 0 && b.tryAdd(n, own) {
		return nil
	}
	w := &budgetWaiter{n: n, own: own, ready: make(chan struct{})}
	b.mu.Lock()
	b.queued.Add(1)
	b.waiters = append(b.waiters, w)
	b.grantLocked() // it may fit now, behind no one
	b.mu.Unlock()
	err := errStop
	select {
	case <-w.ready:
		return nil
	case <-stop:
	case <-expire:
		err = errExpired
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-w.ready:
		return nil // granted as the wait ended
	default:
	}
	for i, o := range b.waiters {
		if o == w {
			b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
			b.queued.Add(-1)
			break
		}
	}
	b.grantLocked() // the takes behind this one may fit now
	return err
}

// errExpired: a take's expire channel fired before it was granted.
var errExpired = errors.New("expired")

// tryAdd takes n bytes if they fit, counting own as room.
func (b *budget) tryAdd(n, own int64) bool {
	for {
		u := b.used.Load()
		if u-own+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

// give gives back n bytes taken with take and grants the waiting takes
// that fit now, in order.
func (b *budget) give(n int64) {
	b.used.Add(-n)
	if b.queued.Load() != 0 {
		b.mu.Lock()
		b.grantLocked()
		b.mu.Unlock()
	}
}

// grantLocked grants the waiting takes in order while the first one fits.
// b.mu is held.
func (b *budget) grantLocked() {
	for len(b.waiters) > 0 {
		w := b.waiters[0]
		if !b.tryAdd(w.n, w.own) {
			return
		}
		close(w.ready)
		b.waiters[0] = nil
		b.waiters = b.waiters[1:]
		b.queued.Add(-1)
	}
	b.waiters = nil
}

func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// mulSat returns a*b, or math.MaxInt64 where that overflows; a, b >= 0.
func mulSat(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}
