//go:build !race

package dotnetxml

const raceEnabled = false
