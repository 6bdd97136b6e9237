// Package testutil holds the helpers the integration suites share: bounded
// waits on events, contexts that end with the test, loopback listeners,
// and servers and clients that are closed and waited for when the test
// ends.
package testutil

import (
	"context"
	"net"
	"testing"
	"time"
)

// WaitTime bounds every wait on an event: generous, for a busy 2-core
// machine running the race detector. A passing test never waits this long.
const WaitTime = 10 * time.Second

// Quiet is how long a test watches for something that must not happen.
const Quiet = 150 * time.Millisecond

// Recv waits for a value on ch, failing the test after WaitTime.
func Recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	timer := time.NewTimer(WaitTime)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("timed out after %v waiting for %s", WaitTime, what)
		panic("unreachable")
	}
}

// Closed waits for ch to be closed (or to yield a value), failing the test
// after WaitTime.
func Closed[T any](t testing.TB, ch <-chan T, what string) {
	t.Helper()
	Recv(t, ch, what)
}

// None asserts that nothing arrives on ch for Quiet. This is the one place
// the suites sleep: to show that something does not happen.
func None[T any](t testing.TB, ch <-chan T, what string) {
	t.Helper()
	timer := time.NewTimer(Quiet)
	defer timer.Stop()
	select {
	case v := <-ch:
		t.Fatalf("unexpected %s: %v", what, v)
	case <-timer.C:
	}
}

// Ctx returns a context that ends after WaitTime or when the test ends.
func Ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), WaitTime)
	t.Cleanup(cancel)
	return ctx
}

// Listen returns a TCP listener on 127.0.0.1 with a free port.
func Listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// Must fails the test on a non-nil error.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Eventually polls cond every millisecond until it holds, failing the test
// after WaitTime. It is for states that raise no event.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(WaitTime)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", WaitTime, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// Within fails the test unless lo <= d < hi.
func Within(t testing.TB, what string, d, lo, hi time.Duration) {
	t.Helper()
	if d < lo || d >= hi {
		t.Errorf("%s took %v, want within [%v, %v)", what, d, lo, hi)
	}
}
