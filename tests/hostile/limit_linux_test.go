//go:build linux && !race

package hostile

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// limitAddressSpace caps the process's address space (RLIMIT_AS) at what
// it has mapped now plus extra bytes, so that a huge allocation fails at
// once with "out of memory" instead of taking the machine's memory.
func limitAddressSpace(extra uint64) error {
	statm, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return err
	}
	field, _, _ := strings.Cut(string(statm), " ")
	pages, err := strconv.ParseUint(field, 10, 64)
	if err != nil {
		return fmt.Errorf("parsing /proc/self/statm: %w", err)
	}
	limit := pages*uint64(os.Getpagesize()) + extra
	return syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: limit, Max: limit})
}
