package base_test

import (
	"testing"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// TestBackoffRestartsAfterServerAnswered is the other side of
// TestBackoffGrowsAgainstSilentServer: a connection over which the server
// sent something is a success, so after it is lost the attempts start
// again at 1.
func TestBackoffRestartsAfterServerAnswered(t *testing.T) {
	srvRec := newRecorder()
	addr := serve(t, base.NewServer(native.New, srvRec.server()...))
	rr := newRedialRec(newRecorder())
	c := base.NewClient(native.New, rr.options(fastBackoff)...)
	defer c.Close()
	if err := c.Connect(ctxT(t), addr); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		s := receive(t, srvRec.opened, "the server's session")
		if err := s.SendMessage(ctxT(t), []byte("hello")); err != nil {
			t.Fatal(err)
		}
		receive(t, rr.rec.messages, "the server's message")
		s.Close()
		if a := receive(t, rr.attempts, "a reconnect attempt"); a.n != 1 {
			t.Fatalf("attempt %d after a connection the server had sent a message over, want 1", a.n)
		}
	}
}
