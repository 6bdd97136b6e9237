//go:build !linux || race

package sertest

import "errors"

// limitAddressSpace is not available here: the race detector maps shadow
// memory for every heap range, which an address space limit would starve,
// and other systems lack /proc/self/statm. The heap watchdog remains.
func limitAddressSpace(uint64) error {
	return errors.New("not with the race detector or outside Linux; the heap watchdog remains")
}
