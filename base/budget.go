package base

import (
	"errors"
	"math"
	"sync"
	"time"
)

// budget is a server's bound on the bytes all its sessions hold for input
// (see WithMaxInflightBytes): a weighted semaphore whose waiters are served
// in the order they came, so that a large take is not starved by a stream
// of small ones. A take larger than the whole budget is clipped to it: it
// waits until the budget is empty, and then fits.
type budget struct {
	mu      sync.Mutex
	limit   int64
	used    int64
	waiters []*budgetWaiter // in arrival order
}

type budgetWaiter struct {
	n, own int64
	ready  chan struct{} // closed when granted
}

func newBudget(limit int64) *budget { return &budget{limit: limit} }

// clip returns what a take of n is charged.
func (b *budget) clip(n int64) int64 { return min(n, b.limit) }

// take takes n bytes (clipped to the budget), waiting while they do not fit
// behind the takes already waiting, unless now is set: then it takes them at
// once, whatever is left. own is what the taker holds already and is about
// to give back (a read buffer whose packet this take is for): it counts as
// room. take returns nil once the bytes are taken, or, having taken
// nothing, errStop when stop is closed and errExpired when expire fires
// first (either may be nil).
func (b *budget) take(n, own int64, now bool, stop <-chan struct{}, expire <-chan time.Time) error {
	n = b.clip(n)
	b.mu.Lock()
	if now || (len(b.waiters) == 0 && b.used-own+n <= b.limit) {
		b.used += n
		b.mu.Unlock()
		return nil
	}
	w := &budgetWaiter{n: n, own: own, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
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
			break
		}
	}
	b.grantLocked() // the takes behind this one may fit now
	return err
}

// errExpired: a take waited for its whole time.
var errExpired = errors.New("expired")

// give returns n bytes taken with take (the same n: it is clipped alike).
func (b *budget) give(n int64) {
	n = b.clip(n)
	b.mu.Lock()
	b.used -= n
	b.grantLocked()
	b.mu.Unlock()
}

// grantLocked grants the waiting takes that fit, in order. b.mu is held.
func (b *budget) grantLocked() {
	for len(b.waiters) > 0 {
		w := b.waiters[0]
		if b.used-w.own+w.n > b.limit {
			return
		}
		b.used += w.n
		close(w.ready)
		b.waiters[0] = nil
		b.waiters = b.waiters[1:]
	}
	if len(b.waiters) == 0 {
		b.waiters = nil
	}
}

// addSat returns a+b, or math.MaxInt64 where that overflows; a, b >= 0.
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
