//go:build race

package hostile

// raceEnabled reports whether the race detector is on: it slows decoding
// several times, so latency bounds are wider with it.
const raceEnabled = true
