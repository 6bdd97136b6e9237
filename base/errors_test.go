package base_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/netmessage-go/netmessage/base"
)

func TestCloseReasonStrings(t *testing.T) {
	want := map[base.CloseReason]string{
		base.ReasonGraceful:          "graceful shutdown",
		base.ReasonDisconnectTimeout: "disconnect timeout",
		base.ReasonConnectionLost:    "connection lost",
		base.ReasonNetworkError:      "network error",
		base.ReasonClosedLocally:     "closed locally",
		base.ReasonAcceptError:       "accept error",
		base.ReasonProtocolError:     "protocol error",
		base.ReasonServerShutdown:    "server shutdown",
		0:                            "CloseReason(0)",
		99:                           "CloseReason(99)",
	}
	for r, s := range want {
		if r.String() != s {
			t.Errorf("CloseReason(%d).String() = %q, want %q", int(r), r.String(), s)
		}
		if r.Error() != "netmessage: "+s {
			t.Errorf("CloseReason(%d).Error() = %q", int(r), r.Error())
		}
	}
}

func TestCloseError(t *testing.T) {
	plain := &base.CloseError{Reason: base.ReasonGraceful}
	if got := plain.Error(); got != "netmessage: connection closed: graceful shutdown" {
		t.Errorf("Error() = %q", got)
	}
	if !errors.Is(plain, base.ErrClosed) || !errors.Is(plain, base.ReasonGraceful) || errors.Is(plain, base.ReasonConnectionLost) {
		t.Error("plain CloseError matches wrongly")
	}
	if plain.Unwrap() != nil {
		t.Error("Unwrap of a CloseError without cause")
	}
	caused := &base.CloseError{Reason: base.ReasonNetworkError, Err: io.ErrUnexpectedEOF}
	if got := caused.Error(); got != "netmessage: connection closed: network error: unexpected EOF" {
		t.Errorf("Error() = %q", got)
	}
	if !errors.Is(caused, io.ErrUnexpectedEOF) || !errors.Is(caused, base.ReasonNetworkError) || errors.Is(caused, base.ErrServerClosed) {
		t.Error("CloseError with cause matches wrongly")
	}
}

func TestRequestTimeoutError(t *testing.T) {
	err := base.ErrRequestTimeout
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatal("ErrRequestTimeout is not a timeout net.Error")
	}
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		t.Error("ErrRequestTimeout matches wrongly")
	}
	if err.Error() != "netmessage: request timed out" {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestKindStrings(t *testing.T) {
	for k, s := range map[base.Kind]string{
		base.KindNone: "none", base.KindMessage: "message", base.KindRequest: "request",
		base.KindResponse: "response", 9: "kind(9)",
	} {
		if k.String() != s {
			t.Errorf("Kind(%d).String() = %q, want %q", k, k.String(), s)
		}
	}
}
