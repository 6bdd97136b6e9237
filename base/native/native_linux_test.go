package native_test

import (
	"strconv"
	"syscall"
	"testing"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// A payload over 4 GiB cannot be framed. The payload is an untouched,
// unbacked mapping, so the test needs address space but no memory.
func TestAppendOverFrameLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("maps 4 GiB of address space")
	}
	if strconv.IntSize < 64 {
		t.Skip("a slice over 4 GiB needs 64-bit ints")
	}
	one := uint64(1) // not a constant: the size overflows a 32-bit int
	size := int(one<<32 + 1)
	payload, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		t.Skipf("cannot map 4 GiB: %v", err)
	}
	defer syscall.Munmap(payload)
	dst, err := native.New().Append([]byte("x"), base.Packet{Kind: base.KindMessage, Payload: payload})
	want := "native: payload of 4294967297 bytes over the 4 GiB frame limit"
	if err == nil || err.Error() != want {
		t.Fatalf("Append: %v, want %q", err, want)
	}
	if string(dst) != "x" {
		t.Errorf("Append changed dst to %q", dst)
	}
}
