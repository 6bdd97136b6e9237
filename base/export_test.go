package base

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
