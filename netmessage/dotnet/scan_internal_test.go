package dotnet

import (
	"strings"
	"testing"
)

// TestScanOffset checks that Decode searches each byte of a packet once
// while the packet arrives in pieces, and starts over for the next one.
func TestScanOffset(t *testing.T) {
	p := &Protocol{}
	packet := "T::" + strings.Repeat("x", 10000) + "\x04"
	for n := 1000; n < len(packet); n += 1000 {
		if _, used, err := p.Decode([]byte(packet[:n]), 1<<20); used != 0 || err != nil {
			t.Fatalf("partial packet: %d, %v", used, err)
		}
		if p.scanned != n {
			t.Fatalf("after %d bytes scanned = %d", n, p.scanned)
		}
	}
	if _, used, err := p.Decode([]byte(packet+"A::"), 1<<20); used != len(packet) || err != nil {
		t.Fatalf("whole packet: %d, %v", used, err)
	}
	if p.scanned != 0 {
		t.Fatalf("scanned = %d after a whole packet", p.scanned)
	}
	// A shorter buffer than the last one is a new stream: searched again.
	p.scanned = 50
	if _, used, err := p.Decode([]byte("A::b\x04"), 100); used != 5 || err != nil {
		t.Fatalf("after a reset: %d, %v", used, err)
	}
}
