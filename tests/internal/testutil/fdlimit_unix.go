//go:build unix

package testutil

import (
	"syscall"
	"testing"
)

// RaiseFileLimit makes sure the process may open at least n files (each
// TCP connection is one), raising RLIMIT_NOFILE for the rest of the test
// if needed and putting it back afterwards. It skips the test, saying why,
// when the limit cannot be raised that far.
func RaiseFileLimit(t testing.TB, n uint64) {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Skipf("cannot read the open-file limit: %v", err)
	}
	if old.Cur >= n {
		return
	}
	raised := old
	raised.Cur = n
	if raised.Max < n {
		raised.Max = n // allowed for a privileged process only
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
		t.Skipf("the open-file limit is %d (hard %d), and raising it to %d failed: %v; run `ulimit -n %d` first",
			old.Cur, old.Max, n, err, n)
	}
	t.Logf("raised the open-file limit from %d to %d", old.Cur, n)
	t.Cleanup(func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
			t.Errorf("restoring the open-file limit: %v", err)
		}
	})
}
