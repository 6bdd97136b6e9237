package interop

import (
	"net"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage/dotnet"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// TestRawDisconnectEitherRole: a graceful disconnect is a half-close (no
// packet) answered by the peer's half-close, and both ends report it as
// graceful, whichever end starts it. TestRawDotNetClient and
// TestRawDotNetServer cover the roles of the captured session (the client
// starts); here the Go server starts, and the Go client answers a .NET
// server that starts.
func TestRawDisconnectEitherRole(t *testing.T) {
	t.Run("Go server starts", func(t *testing.T) {
		s := startServer(t, serveWeather)
		raw := dialRaw(t, s.addr)
		sess := testutil.Recv(t, s.opened, "the session")
		raw.send(weatherRequest(0, "Bonn"))
		raw.expect(weatherResponse(0, "Bonn"))

		done := make(chan error, 1)
		go func() { done <- sess.Disconnect(testutil.Ctx(t)) }()
		raw.expectEOF() // the half-close, with no packet before it
		raw.closeWrite()
		testutil.Must(t, testutil.Recv(t, done, "Disconnect to return"))
		expectClose(t, "server", s.ev.closed, sess, base.ReasonGraceful)
		s.ev.noErrors(t)
	})
	t.Run(".NET server starts", func(t *testing.T) {
		c, raw, ev := connectToRaw(t, nil)
		raw.closeWrite()
		raw.expectEOF() // the Go client answers with its own half-close
		expectClose(t, "client", ev.closed, c.Session(), base.ReasonGraceful)
		ev.noErrors(t)
	})
}

// TestRawDefaultHeartbeat: with the default settings, an idle Go end
// sends a heartbeat, a lone 0x04, every 2 s, the interval .NET uses by
// default, a Go server and a Go client each on its own, and stays open
// while its peer does the same. It runs on
// virtual time (testing/synctest) over in-memory pipes.
func TestRawDefaultHeartbeat(t *testing.T) {
	const interval = 2 * time.Second
	// beats reads from the raw end conn for three and a half intervals,
	// sending heartbeats to it meanwhile, and checks that it got one at
	// the end of each interval, and nothing else.
	beats := func(t *testing.T, conn net.Conn) {
		start := time.Now()
		type arrival struct {
			data string
			at   time.Duration
		}
		reads := make(chan []arrival, 1)
		go func() { // a pipe has no buffer: the peer must read for the Go end to write
			var got []arrival
			buf := make([]byte, 64)
			for {
				n, err := conn.Read(buf)
				if err != nil {
					reads <- got
					return
				}
				got = append(got, arrival{string(buf[:n]), time.Since(start)})
			}
		}()
		// The peer beats too, as .NET does, half an interval out of step.
		time.Sleep(interval / 2)
		for range 3 {
			_, err := conn.Write([]byte{dotnet.Terminator})
			testutil.Must(t, err)
			time.Sleep(interval)
		}
		conn.Close()
		got := testutil.Recv(t, reads, "the raw peer's reads")
		want := []arrival{{"\x04", interval}, {"\x04", 2 * interval}, {"\x04", 3 * interval}}
		if !slices.Equal(got, want) {
			t.Errorf("an idle Go end sent %v, want %v", got, want)
		}
	}
	t.Run("server", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ln := testutil.NewPipes()
			var sessions testutil.Sessions
			_, srv := testutil.TypedServer(t, interop(), base.OnSessionOpened(func(s *base.Session) { sessions.Add(s.Done()) }))
			testutil.Serve(t, srv, ln, &sessions)
			conn, err := ln.Dial(testutil.Ctx(t), "", "")
			testutil.Must(t, err)
			beats(t, conn)
		})
	})
	t.Run("client", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ln := testutil.NewPipes()
			defer ln.Close()
			accepted := make(chan net.Conn, 1)
			go func() {
				if conn, err := ln.Accept(); err == nil {
					accepted <- conn
				}
			}()
			_, c := testutil.TypedClient(t, interop(), base.WithDialer(ln.Dial))
			testutil.Must(t, c.Connect(testutil.Ctx(t), "pipe"))
			testutil.CloseClient(t, c, c)
			beats(t, testutil.Recv(t, accepted, "the connection"))
		})
	})
}
