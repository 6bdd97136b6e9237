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
	"github.com/netmessage-go/netmessage/netmessage/dotnet"
	jsonser "github.com/netmessage-go/netmessage/serializers/json"
	msgpackser "github.com/netmessage-go/netmessage/serializers/msgpack"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// TestErrorEventPeerAfterClose: a session closed by a protocol
// error raises its closed event, then an error event with the
// *base.CloseError. The error event must name the same *base.Session
// as the opened and closed events. (It used to name a new one, which then
// stayed in the server's map for good.)
func TestErrorEventPeerAfterClose(t *testing.T) {

	eachProfile(t, func(t *testing.T, sc profile) {
		s := startServer(t, sc.wire(), nil, netmessage.WithTransport(base.WithMaxPacketSize(protocolErrorLimit)))
		conn, err := net.DialTimeout("tcp", s.addr, testutil.WaitTime)
		testutil.Must(t, err)
		defer conn.Close()
		opened := testutil.Recv(t, s.opened, "session opened")
		_, err = conn.Write([]byte(sc.protocolError))
		testutil.Must(t, err)
		expectClose(t, "session closed", s.ev.closed, opened, base.ReasonProtocolError)
		ev := testutil.Recv(t, s.ev.errs, "close error event")
		if !errors.Is(ev.err, base.ReasonProtocolError) {
			t.Errorf("error event %v, want the protocol error", ev.err)
		}
		if ev.peer != opened {
			t.Errorf("error event peer %p (id %d), want the session %p (id %d) of the opened and closed events",
				ev.peer, ev.peer.ID(), opened, opened.ID())
		}
	})
}

// TestUndecodableRequestRaisesErrorEvent: the error event is
// documented to report "a packet that could not be decoded", and an
// undecodable message does raise it. An undecodable request did not: the
// caller got CodeBadRequest, but the end that failed to decode it heard
// nothing (the request handler answered with a failure without raising
// the event). Under the .NET protocol the caller gets no answer and times
// out, and the bad-request response that cannot be sent raises a second
// error event.
func TestUndecodableRequestRaisesErrorEvent(t *testing.T) {
	eachProfile(t, func(t *testing.T, sc profile) {
		// The client writes the request's body with a serializer the
		// server's does not read.
		other := netmessage.WithSerializer(jsonser.New())
		if sc.name == "json" {
			other = netmessage.WithSerializer(msgpackser.New())
		}
		clientWire := netmessage.Combine(sc.wire(), other)
		var opts []netmessage.Option
		if !sc.errorResponses {
			opts = append(opts, netmessage.WithTransport(base.WithResponseTimeout(shortTimeout)))
		}
		s := startServer(t, sc.wire(), func(srv *netmessage.Mux) { testutil.Must(t, handleEcho(srv, "server", nil)) }, toAny(opts)...)
		c := s.connect(t, clientWire, nil, toAny(opts)...)
		_, err := netmessage.Request(testutil.Ctx(t), c.c, EchoRequest{Payload: newRich(1)})
		if sc.errorResponses {
			if re := remoteError(t, "request", err); re.Code != netmessage.CodeBadRequest {
				t.Fatalf("request: %v, want CodeBadRequest", err)
			}
		} else if !errors.Is(err, base.ErrRequestTimeout) {
			t.Fatalf("request: %v, want base.ErrRequestTimeout", err)
		}
		select {
		case ev := <-s.ev.errs:
			if !strings.Contains(ev.err.Error(), "unmarshal") || ev.peer != c.sess {
				t.Errorf("error event %v from %p, want the decode error from %p", ev.err, ev.peer, c.sess)
			}
		case <-time.After(testutil.WaitTime / 10):
			t.Error("the server raised no error event for the request it could not decode")
		}
		if !sc.errorResponses {
			expectErrorEvent(t, "the unsent bad-request response", s.ev, c.sess, dotnet.ErrErrorResponse, "bad request")
		}
	})
}
