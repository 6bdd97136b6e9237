//go:build race

package netmessage

// raceEnabled reports whether the race detector is on.
const raceEnabled = true
