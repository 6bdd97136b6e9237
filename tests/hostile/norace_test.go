//go:build !race

package hostile

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
