package reliability

import (
	"flag"
	"os"
	"os/exec"
	"testing"
	"time"
)

var soakLoadFlag = flag.Duration("soak-load", 0, "how long TestSoakUnderLoad runs (default 3s, 1s with -short; also env NETMESSAGE_SOAK_LOAD)")

// spinEnv, set in a child's environment, makes the test binary spin
// instead of running tests (see TestMain).
const spinEnv = "NETMESSAGE_SPIN"

// spin keeps one core busy until the process is killed.
func spin() {
	for i := 0; ; i++ {
		spinSink = i
	}
}

var spinSink int

// TestSoakUnderLoad is the soak with every timeout and heartbeat at its
// default, 50 connections and broadcasts besides, beside two processes
// that each keep a core busy: the load under which the defaults must not
// close a healthy connection. Nothing may be lost, no connection may
// close but by the final disconnect, and each sender's order must hold.
//
// It runs 3 s by default (1 s with -short); set its length with
// -soak-load=20s or the environment variable NETMESSAGE_SOAK_LOAD=20s.
func TestSoakUnderLoad(t *testing.T) {
	d := soakLoadDuration(t)
	for range 2 {
		busy(t)
	}
	r := soak(t, 50, d, true)
	t.Logf("beside 2 busy processes, default options: %v", r)
}

// busy starts a process that keeps one core busy until the test ends.
func busy(t *testing.T) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), spinEnv+"=1")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start a busy process: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
}

// soakLoadDuration is how long TestSoakUnderLoad runs.
func soakLoadDuration(t *testing.T) time.Duration {
	t.Helper()
	if *soakLoadFlag > 0 {
		return *soakLoadFlag
	}
	if v := os.Getenv("NETMESSAGE_SOAK_LOAD"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("NETMESSAGE_SOAK_LOAD=%q: want a positive duration such as 20s", v)
		}
		return d
	}
	if testing.Short() {
		return time.Second
	}
	return 3 * time.Second
}
