//go:build race

package netmessage_test

// raceEnabled reports whether the race detector is on.
const raceEnabled = true
