// Package reliability is the reliability suite of NetMessage for Go: slow
// and silent peers, floods of connections and requests, network faults
// injected by a proxy (stalls, cuts, resets), recovery by reconnecting, a
// soak that checks that nothing is lost or duplicated, and server
// shutdown. Every test runs over real TCP on 127.0.0.1 and states the
// promise it checks; tests/README.md lists them with their figures.
//
// The suite is fast by default. The soak runs 10 s (2 s with -short);
// set its length with -soak=5m or the environment variable
// NETMESSAGE_SOAK=5m (and a -timeout to match). The soak beside busy
// processes runs 3 s (1 s with -short); set its length with
// -soak-load=20s or NETMESSAGE_SOAK_LOAD=20s.
package reliability

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

var soakFlag = flag.Duration("soak", 0, "how long TestSoakNoLoss runs (default 10s, 2s with -short; also env NETMESSAGE_SOAK)")

func TestMain(m *testing.M) {
	if os.Getenv(spinEnv) != "" {
		runtime.GOMAXPROCS(1)
		spin()
	}
	goleak.VerifyTestMain(m)
}

// tolerance is how late an event timed by a timeout may come on a busy
// 2-core machine running the race detector.
const tolerance = 3 * time.Second

// closeEvent is a session's close, with when it was raised.
type closeEvent struct {
	s      *base.Session
	reason base.CloseReason
	at     time.Time
}

// errorEvent is an error event; s is nil for a server's accept errors.
type errorEvent struct {
	s   *base.Session
	err error
}

// baseServer is a base server on a loopback listener that records its
// events. Requests are answered with "echo:" and the payload.
type baseServer struct {
	srv    *base.Server
	addr   string
	opened chan *base.Session
	closed chan closeEvent
	errs   chan errorEvent
	served chan error

	sessions testutil.Sessions
}

// eventRoom is the capacity of the event channels: hooks never block.
const eventRoom = 8192

// startBaseServer serves a loopback listener. The server is closed when
// the test ends, and every session it opened must have finished by then.
func startBaseServer(t *testing.T, opts ...base.ServerOption) *baseServer {
	t.Helper()
	s := &baseServer{
		opened: make(chan *base.Session, eventRoom),
		closed: make(chan closeEvent, eventRoom),
		errs:   make(chan errorEvent, eventRoom),
	}
	all := []base.ServerOption{
		base.OnRequest(echo),
		base.OnSessionOpened(func(sess *base.Session) {
			s.sessions.Add(sess.Done())
			s.opened <- sess
		}),
		base.OnSessionClosed(func(sess *base.Session, r base.CloseReason) {
			s.closed <- closeEvent{sess, r, time.Now()}
		}),
		base.OnError(func(sess *base.Session, err error) { s.errs <- errorEvent{sess, err} }),
	}
	s.srv = base.NewServer(native.New, append(all, opts...)...)
	s.addr, s.served = testutil.ServeLoopback(t, s.srv, &s.sessions)
	return s
}

func echo(_ context.Context, _ *base.Session, p []byte) []byte {
	return append([]byte("echo:"), p...)
}

// baseClient is a base client that records its events.
type baseClient struct {
	c      *base.Client
	sess   *base.Session // this end's session, once connected
	closed chan closeEvent
	errs   chan error
}

// newBaseClient returns a client that is closed when the test ends.
func newBaseClient(t *testing.T, opts ...base.ClientOption) *baseClient {
	c := &baseClient{closed: make(chan closeEvent, 16), errs: make(chan error, 64)}
	all := []base.ClientOption{
		base.OnDisconnected(func(s *base.Session, r base.CloseReason) { c.closed <- closeEvent{s, r, time.Now()} }),
		base.OnError(func(_ *base.Session, err error) { c.errs <- err }),
	}
	c.c = base.NewClient(native.New, append(all, opts...)...)
	testutil.CloseClient(t, c.c, c.c)
	return c
}

// connect connects c to addr; it does not wait for the server's session.
func (c *baseClient) connect(t *testing.T, addr string) {
	t.Helper()
	testutil.Must(t, c.c.Connect(testutil.Ctx(t), addr))
	c.sess = c.c.Session()
}

// sessionFor waits for the server's session whose remote address is
// addr, putting other opened sessions back.
func (s *baseServer) sessionFor(t *testing.T, addr string) *base.Session {
	t.Helper()
	var others []*base.Session
	defer func() {
		for _, o := range others {
			s.opened <- o
		}
	}()
	for {
		sess := testutil.Recv(t, s.opened, "the server session of "+addr)
		if sess.RemoteAddr().String() == addr {
			return sess
		}
		others = append(others, sess)
	}
}

// durations summarises measured latencies.
type durations []time.Duration

func (d durations) String() string {
	if len(d) == 0 {
		return "none"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return fmt.Sprintf("min %v, median %v, max %v (n=%d)", round(s[0]), round(s[len(s)/2]), round(s[len(s)-1]), len(s))
}

// round rounds d for a report: to the millisecond, or to the microsecond
// below 10 ms.
func round(d time.Duration) time.Duration {
	if d < 10*time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(time.Millisecond)
}

// reasonCounts counts close reasons, for a report.
type reasonCounts map[base.CloseReason]int

func (rc reasonCounts) String() string {
	keys := slices.Sorted(maps.Keys(rc))
	parts := make([]string, len(keys))
	for i, r := range keys {
		parts[i] = fmt.Sprintf("%d %s", rc[r], r.String())
	}
	return strings.Join(parts, ", ")
}

func (d durations) max() time.Duration {
	if len(d) == 0 {
		return 0
	}
	return slices.Max(d)
}

// soakDuration is how long TestSoakNoLoss runs.
func soakDuration(t *testing.T) time.Duration {
	t.Helper()
	if *soakFlag > 0 {
		return *soakFlag
	}
	if v := os.Getenv("NETMESSAGE_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("NETMESSAGE_SOAK=%q: want a positive duration such as 5m", v)
		}
		return d
	}
	if testing.Short() {
		return 2 * time.Second
	}
	return 10 * time.Second
}
