//go:build !race

package sertest

// Race reports whether the race detector is on.
const Race = false
