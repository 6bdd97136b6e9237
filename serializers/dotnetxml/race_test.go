//go:build race

package dotnetxml

// With the race detector, bytes.Buffer's growth allocates each new buffer
// twice (the make in append([]byte(nil), make([]byte, c)...) is not
// elided), so the tests' estimate counts encoding/xml's buffer twice.
const raceEnabled = true
