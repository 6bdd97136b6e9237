package tests

// Regression tests for SDK bugs this suite found.

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// TestErrorEventPeerAfterClose: a session closed by a protocol
// error raises its closed event, then an error event with the
// *base.CloseError. The error event must name the same *netmessage.Session
// as the opened and closed events. (It used to name a new one, which then
// stayed in the server's map for good.)
func TestErrorEventPeerAfterClose(t *testing.T) {

	eachSerializer(t, func(t *testing.T, sc serializerCase) {
		s := startServer(t, sc.new(), nil)
		conn, err := net.DialTimeout("tcp", s.addr, testutil.WaitTime)
		must(t, err)
		defer conn.Close()
		opened := recv(t, s.opened, "session opened")
		// A valid preface, then a frame type the native protocol lacks.
		_, err = conn.Write([]byte("NMGO\x01\x7f"))
		must(t, err)
		expectClose(t, "session closed", s.ev.closed, opened, base.ReasonProtocolError)
		ev := recv(t, s.ev.errs, "close error event")
		if !errors.Is(ev.err, base.ReasonProtocolError) {
			t.Errorf("error event %v, want the protocol error", ev.err)
		}
		if ev.peer != opened {
			t.Errorf("error event peer %p (id %d), want the session %p (id %d) of the opened and closed events",
				ev.peer, ev.peer.(*netmessage.Session).ID(), opened, opened.ID())
		}
	})
}

// TestUndecodableRequestRaisesErrorEvent: netmessage.OnError is
// documented to report "a packet that could not be decoded", and an
// undecodable message does raise it. An undecodable request does not: the
// caller gets CodeBadRequest, but the end that failed to decode it hears
// nothing (router.go HandleRequest returns encodeFailure without
// ep.report).
func TestUndecodableRequestRaisesErrorEvent(t *testing.T) {

	eachSerializer(t, func(t *testing.T, sc serializerCase) {
		other := serializers[0]
		if other.name == sc.name {
			other = serializers[1]
		}
		s := startServer(t, sc.new(), func(srv *netmessage.Server) { must(t, handleEcho(srv, "server", nil)) })
		c := s.connect(t, other.new(), nil)
		_, err := netmessage.Request(ctxT(t), c.c, EchoRequest{Payload: newRich(1)})
		if re := remoteError(t, "request", err); re.Code != netmessage.CodeBadRequest {
			t.Fatalf("request: %v, want CodeBadRequest", err)
		}
		select {
		case ev := <-s.ev.errs:
			if !strings.Contains(ev.err.Error(), "unmarshal") || ev.peer != c.sess {
				t.Errorf("error event %v from %p, want the decode error from %p", ev.err, ev.peer, c.sess)
			}
		case <-time.After(testutil.WaitTime / 10):
			t.Error("the server raised no error event for the request it could not decode")
		}
	})
}
