package tests

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// TestMismatchedSerializers connects a client and a server that use
// different serializers over one protocol, for every ordered pair of the
// table. A request
// either way fails at once with a clear error (CodeBadRequest from the
// peer that could not decode it, or a decode error), a message raises a
// decode error event on the receiving end, and nothing hangs or crashes:
// the connection stays open and requests that need no decoding (an
// unhandled type) still get their answer.
func TestMismatchedSerializers(t *testing.T) {
	eachProfile(t, func(t *testing.T, serverSC profile) {
		if !serverSC.errorResponses {
			t.Skip("the .NET protocol has no error responses, so a request the peer cannot decode is not answered at once; " +
				"TestUndecodableRequestRaisesErrorEvent covers its decode errors")
		}
		for _, clientSC := range profiles {
			if clientSC.name == serverSC.name || clientSC.protocol != serverSC.protocol {
				continue
			}
			t.Run("client "+clientSC.name, func(t *testing.T) {
				atServer, atClient := make(chan received[Rich], 1), make(chan received[Rich], 1)
				s := startServer(t, serverSC.wire(), func(srv *netmessage.Mux) {
					testutil.Must(t, handleEcho(srv, "server", nil))
					collect(t, srv, atServer)
				})
				c := s.connect(t, clientSC.wire(), func(cl *netmessage.Mux) {
					testutil.Must(t, handleEcho(cl, "client", nil))
					collect(t, cl, atClient)
				})

				for _, d := range []struct {
					name    string
					caller  *base.Session
					handler *events
					inbox   chan received[Rich]
				}{
					{"client to server", c.c.Session(), s.ev, atServer},
					{"server to client", c.sess, c.ev, atClient},
				} {
					start := time.Now()
					resp, err := netmessage.Request(testutil.Ctx(t), d.caller, EchoRequest{Payload: newRich(1)})
					testutil.Within(t, d.name+": request", time.Since(start), 0, unhandledWithin)
					var re *netmessage.RemoteError
					switch {
					case err == nil:
						t.Fatalf("%s: request succeeded across serializers: %+v", d.name, resp)
					case errors.As(err, &re):
						if re.Code != netmessage.CodeBadRequest || !strings.Contains(re.Message, "unmarshal") {
							t.Errorf("%s: got %v, want CodeBadRequest naming the unmarshal failure", d.name, err)
						}
					case !strings.Contains(err.Error(), "unmarshal"):
						t.Errorf("%s: got %v, want a decode error", d.name, err)
					}
					t.Logf("%s: %v", d.name, err)

					testutil.Must(t, netmessage.Send(testutil.Ctx(t), d.caller, newRich(2)))
					ev := testutil.Recv(t, d.handler.errs, d.name+": decode error event")
					if !strings.Contains(ev.err.Error(), "unmarshal") {
						t.Errorf("%s: error event %v, want a decode error", d.name, ev.err)
					}
					select {
					case m := <-d.inbox:
						t.Errorf("%s: handler got a message it could not decode: %+v", d.name, m.msg)
					default:
					}

					// Still connected: a request that needs no decoding is
					// answered.
					if _, err := netmessage.Request(testutil.Ctx(t), d.caller, Orphan{}); !errors.Is(err, netmessage.ErrUnhandled) {
						t.Errorf("%s: unhandled request after the mismatch: %v", d.name, err)
					}
				}
				if err := c.sess.Err(); err != nil {
					t.Errorf("session closed: %v", err)
				}
			})
		}
	})
}
