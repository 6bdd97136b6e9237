//go:build !unix

package testutil

import "testing"

// RaiseFileLimit skips the test: this system has no RLIMIT_NOFILE to
// check.
func RaiseFileLimit(t testing.TB, n uint64) {
	t.Helper()
	t.Skipf("cannot check the open-file limit for %d files on this system", n)
}
