//go:build race

package base_test

// raceEnabled reports whether the race detector is on.
const raceEnabled = true
