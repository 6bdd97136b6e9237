package base

import "sync"

// InflightState returns what the server's budget for input has taken and
// how many takes wait for it (zeros without a budget).
func InflightState(srv *Server) (used int64, waiting int) {
	b := srv.cfg.budget
	if b == nil {
		return 0, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used.Load(), len(b.waiters)
}

// FreshCallPool empties the pool of outgoing calls. A pooled call holds a
// channel, and a channel made in a synctest bubble must not be used
// outside it, nor one made outside in a bubble: a test that runs a bubble
// calls it before and after, while no request of another test runs.
func FreshCallPool() { callPool = sync.Pool{New: callPool.New} }
