package interop

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/netmessage/dotnet"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// weatherRequest and weatherResponse are the wire text of a request with
// the given id and city and of the Go server's answer to it.
func weatherRequest(id int, city string) string {
	return fmt.Sprintf(">Interop.WeatherRequest:%d:<WeatherRequest><City>%s</City></WeatherRequest>\x04", id, city)
}

func weatherResponse(id int, city string) string {
	return fmt.Sprintf("<Interop.WeatherResponse:%d:<WeatherResponse><Forecast>Sunny in %s</Forecast></WeatherResponse>\x04", id, city)
}

// checkOtherSession checks that a Go client of the same server still gets
// answers.
func checkOtherSession(t *testing.T, c *client) {
	t.Helper()
	resp, err := netmessage.Request(testutil.Ctx(t), c.c, WeatherRequest{City: "Elsewhere"})
	if err != nil || resp.Forecast != "Sunny in Elsewhere" {
		t.Errorf("the other session: %+v, %v", resp, err)
	}
}

// TestBadInputOneWrite sends the captured bad input in one write after a
// valid request. Unlike the original, which raised an error and silently
// dropped the rest of the read, the Go server answers the request, raises
// an error event naming the garbage packet and goes on with the packets
// after it: an unknown message (an unhandled event), an unknown request
// (an unhandled event, and an error event for the error response .NET
// cannot carry), a response to a request never sent (an error event, as
// the original raises), and the valid request at the end, which is
// answered. The connection stays open and heartbeats go on, as the
// original's did, until the peer half-closes. Other sessions go on.
func TestBadInputOneWrite(t *testing.T) {
	// Quick heartbeats, and no receive timeout: the raw peer sends none.
	s := startServer(t, serveWeather, netmessage.WithTransport(base.WithHeartbeat(beatInterval, 0)))
	other := s.connect(t, nil)
	raw := dialRaw(t, s.addr)
	sess := testutil.Recv(t, s.opened, "the raw session")
	checkOtherSession(t, other)

	raw.send(append([]string{weatherRequest(0, "Bonn")}, captured(t, "bad_input.bin")...)...)
	raw.expect(weatherResponse(0, "Bonn"),
		"<Interop.WeatherResponse:1:<WeatherResponse><Forecast>Sunny in Exämple</Forecast></WeatherResponse>\x04")
	var malformed, unsent, unknown int
	for range 3 {
		err := testutil.Recv(t, s.ev.errs, "an error event")
		switch {
		case errors.Is(err, dotnet.ErrMalformed):
			malformed++
			if !strings.Contains(err.Error(), `no ':' after the type id in "garbage-without-separators"`) {
				t.Errorf("error event %q", err)
			}
		case errors.Is(err, dotnet.ErrErrorResponse):
			unsent++
		case errors.Is(err, base.ErrUnknownResponse) && !errors.Is(err, base.ErrClosed):
			unknown++
			if !strings.Contains(err.Error(), "id 99") {
				t.Errorf("error event %q does not name id 99", err)
			}
		default:
			t.Errorf("unexpected error event %v", err)
		}
	}
	if malformed != 1 || unsent != 1 || unknown != 1 {
		t.Errorf("error events: %d malformed, %d unsent responses, %d unknown responses; want one each", malformed, unsent, unknown)
	}
	// The message's event comes from the dispatcher, the request's from
	// its handler's goroutine: in either order.
	want := map[unhandledEvent]bool{{base.KindMessage, "Unknown.Type"}: true, {base.KindRequest, "Unknown.Req"}: true}
	for range 2 {
		ev := testutil.Recv(t, s.ev.unhandled, "an unhandled event")
		if !want[ev] {
			t.Errorf("unhandled event %+v, want one of %v", ev, want)
		}
		delete(want, ev)
	}
	checkOtherSession(t, other)
	raw.expectHeartbeat()
	raw.closeWrite()
	raw.expectEOF()
	expectClose(t, "server", s.ev.closed, sess, base.ReasonGraceful)
	s.ev.noErrors(t)
}

// TestBadInputEach sends each captured bad packet on its own connection,
// between two valid requests: after each, the second request is answered
// and the connection closes gracefully when the peer half-closes.
func TestBadInputEach(t *testing.T) {
	bad := captured(t, "bad_input.bin")
	for _, c := range []struct {
		name      string
		packet    string
		answers   []string        // besides the request before (id 100)
		unhandled *unhandledEvent // the unhandled event raised
		err       error           // the error event raised
	}{
		{name: "garbage", packet: bad[0], answers: []string{weatherResponse(101, "After")}, err: dotnet.ErrMalformed},
		{name: "unknown message type", packet: bad[1], answers: []string{weatherResponse(101, "After")},
			unhandled: &unhandledEvent{base.KindMessage, "Unknown.Type"}},
		{name: "unknown request type", packet: bad[2], answers: []string{weatherResponse(101, "After")},
			unhandled: &unhandledEvent{base.KindRequest, "Unknown.Req"}, err: dotnet.ErrErrorResponse},
		{name: "response to an id never sent", packet: bad[3], answers: []string{weatherResponse(101, "After")}, err: base.ErrUnknownResponse},
		{name: "valid request", packet: bad[4], answers: []string{
			"<Interop.WeatherResponse:1:<WeatherResponse><Forecast>Sunny in Exämple</Forecast></WeatherResponse>\x04",
			weatherResponse(101, "After"),
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := startServer(t, serveWeather)
			other := s.connect(t, nil)
			raw := dialRaw(t, s.addr)
			sess := testutil.Recv(t, s.opened, "the raw session")

			raw.send(weatherRequest(100, "Before"), c.packet, weatherRequest(101, "After"))
			raw.expect(append([]string{weatherResponse(100, "Before")}, c.answers...)...)
			if c.unhandled != nil {
				if ev := testutil.Recv(t, s.ev.unhandled, "the unhandled event"); ev != *c.unhandled {
					t.Errorf("unhandled event %+v, want %+v", ev, *c.unhandled)
				}
			}
			if c.err != nil {
				s.ev.expectError(t, c.err)
			}
			raw.closeWrite()
			raw.expectEOF()
			expectClose(t, "server", s.ev.closed, sess, base.ReasonGraceful)
			checkOtherSession(t, other)
			s.ev.noErrors(t)
		})
	}
}
