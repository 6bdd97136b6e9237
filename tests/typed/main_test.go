// Package tests is the typed integration suite of NetMessage for Go: typed
// servers and clients talking over real TCP on 127.0.0.1, every test run
// once for each profile as subtests: the native protocol with each
// serializer (XML, JSON, msgpack), and the .NET compat protocol with the
// .NET XML serializer. The heartbeat test that keeps a connection idle
// runs on virtual time (testing/synctest) over in-memory pipes.
package tests

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/netmessage/dotnet"
	jsonser "github.com/netmessage-go/netmessage/serializers/json"
	msgpackser "github.com/netmessage-go/netmessage/serializers/msgpack"
	xmlser "github.com/netmessage-go/netmessage/serializers/xml"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// profile is one wire setup the suite runs with: a protocol, a serializer
// and the type ids, and what they can carry.
type profile struct {
	name string
	// wire returns the option both ends get: protocol, serializer, type
	// ids.
	wire func() netmessage.Option
	// protocol names the wire protocol; the serializer mismatch cases pair
	// profiles of one protocol.
	protocol string
	maps     bool // the format carries Go maps (XML does not)
	// utc: a time sent in UTC comes back in UTC. msgpack keeps only the
	// instant and decodes into time.Local (documented in its package).
	utc bool
	// errorResponses: a request the peer could not answer fails at once
	// with a *netmessage.RemoteError. The .NET protocol has no error
	// responses: the caller times out and the answering end raises an
	// error event wrapping dotnet.ErrErrorResponse.
	errorResponses bool
	// typeID is the type id of t on the wire.
	typeID func(t reflect.Type) string
	// protocolError is bytes that make the receiving end close the
	// connection with base.ReasonProtocolError when its maximum packet
	// size is protocolErrorLimit.
	protocolError string
}

// nativeProfile is the native protocol with the serializer newSer returns.
func nativeProfile(name string, newSer func() netmessage.Serializer, maps, utc bool) profile {
	return profile{
		name:           name,
		wire:           func() netmessage.Option { return netmessage.WithSerializer(newSer()) },
		protocol:       "native",
		maps:           maps,
		utc:            utc,
		errorResponses: true,
		typeID:         func(t reflect.Type) string { return t.PkgPath() + "." + t.Name() },
		// A valid preface, then a frame type the native protocol lacks.
		protocolError: "NMGO\x02\x7f",
	}
}

// dotnetNamespace is the .NET namespace of the packet types in the .NET
// profile.
const dotnetNamespace = "Tests"

// dotnetProfile is the .NET NetMessage protocol and XML, as dotnet.Compat
// sets them up, with every packet type of the suite in one namespace.
var dotnetProfile = profile{
	name:     "dotnet",
	wire:     func() netmessage.Option { return dotnet.Compat(dotnet.Namespace(dotnetNamespace, packetTypes...)) },
	protocol: "dotnet",
	utc:      true,
	typeID:   func(t reflect.Type) string { return dotnet.TypeID(dotnetNamespace, reflect.Zero(t).Interface()) },
	// A packet over the maximum packet size: the only input the .NET
	// protocol cannot skip (a malformed packet, or a response to a request
	// never sent, is an error event there).
	protocolError: "Tests.Pong::<Pong><N>" + strings.Repeat("1", 2*protocolErrorLimit) + "</N></Pong>\x04",
}

// protocolErrorLimit is the maximum packet size under which
// profile.protocolError is a protocol error.
const protocolErrorLimit = 1024

// profiles is the table every test loops over.
var profiles = []profile{
	nativeProfile("xml", func() netmessage.Serializer { return xmlser.New() }, false, true),
	nativeProfile("json", func() netmessage.Serializer { return jsonser.New() }, true, true),
	nativeProfile("msgpack", func() netmessage.Serializer { return msgpackser.New() }, true, false),
	dotnetProfile,
}

// eachProfile runs f as a subtest for every profile.
func eachProfile(t *testing.T, f func(t *testing.T, sc profile)) {
	t.Helper()
	for _, sc := range profiles {
		t.Run(sc.name, func(t *testing.T) { f(t, sc) })
	}
}

// diff fails the test when got differs from want.
func diff[T any](t testing.TB, what string, want, got T) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// typeID is the type id of T on sc's wire.
func typeID[T any](sc profile) string { return sc.typeID(reflect.TypeFor[T]()) }

// Events one end raised; peer is the session they were raised on.
type (
	closeEvent struct {
		peer   *base.Session
		reason base.CloseReason
	}
	errorEvent struct {
		peer *base.Session
		err  error
	}
	unhandledEvent struct {
		peer *base.Session
		kind base.Kind
		id   string
	}
)

// events collects one end's events on channels large enough that a hook
// never blocks in these tests.
type events struct {
	closed    chan closeEvent
	errs      chan errorEvent
	unhandled chan unhandledEvent
}

func newEvents() *events {
	return &events{
		closed:    make(chan closeEvent, 64),
		errs:      make(chan errorEvent, 1024),
		unhandled: make(chan unhandledEvent, 1024),
	}
}

// options returns the hooks that record ev: the error hook, a base
// option, and the unhandled hook, a netmessage option.
func (ev *events) options() []any {
	return []any{
		base.OnError(func(p *base.Session, err error) { ev.errs <- errorEvent{p, err} }),
		netmessage.OnUnhandled(func(p *base.Session, kind base.Kind, id string) {
			ev.unhandled <- unhandledEvent{p, kind, id}
		}),
	}
}

// server is a typed server serving a listener.
type server struct {
	mux    *netmessage.Mux
	srv    *base.Server
	addr   string
	ev     *events
	opened chan *base.Session
	served chan error // receives Serve's result
	// dial is how clients reach the server: nil for TCP to addr.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)

	sessions testutil.Sessions // every session opened, waited for at cleanup
}

// startServer starts a typed server on a loopback listener with the wire
// option wire (see profile) and opts (netmessage or base options). setup
// registers handlers on its Mux before it serves. The server is closed
// when the test ends, and every session it opened must have finished by
// then.
func startServer(t *testing.T, wire netmessage.Option, setup func(*netmessage.Mux), opts ...any) *server {
	t.Helper()
	return startServerOn(t, testutil.Listen(t), nil, wire, setup, opts...)
}

// startServerOn is startServer on ln; its clients connect with dial, or
// over TCP to ln's address when dial is nil.
func startServerOn(t *testing.T, ln net.Listener, dial func(ctx context.Context, network, addr string) (net.Conn, error),
	wire netmessage.Option, setup func(*netmessage.Mux), opts ...any) *server {
	t.Helper()
	s := &server{ev: newEvents(), opened: make(chan *base.Session, 64), addr: ln.Addr().String(), dial: dial}
	all := append([]any{
		wire,
		base.OnSessionOpened(func(sess *base.Session) {
			s.sessions.Add(sess.Done())
			s.opened <- sess
		}),
		base.OnSessionClosed(func(sess *base.Session, reason base.CloseReason) {
			s.ev.closed <- closeEvent{sess, reason}
		}),
	}, s.ev.options()...)
	s.mux, s.srv = testutil.TypedServer(t, append(all, opts...)...)
	if setup != nil {
		setup(s.mux)
	}
	s.served = testutil.Serve(t, s.srv, ln, &s.sessions)
	return s
}

// client is a typed client connected to a server.
type client struct {
	mux  *netmessage.Mux
	c    *base.Client
	ev   *events
	sess *base.Session // the server's session for this client
}

// connect connects a typed client with the wire option wire and opts
// (netmessage or base options) to s and waits until both ends have
// opened. setup registers handlers on its Mux before it connects. The
// client is closed when the test ends.
func (s *server) connect(t *testing.T, wire netmessage.Option, setup func(*netmessage.Mux), opts ...any) *client {
	t.Helper()
	c := &client{ev: newEvents()}
	connected := make(chan *base.Session, 1)
	all := append([]any{
		wire,
		base.OnConnected(func(cs *base.Session) { connected <- cs }),
		base.OnDisconnected(func(cs *base.Session, reason base.CloseReason) {
			c.ev.closed <- closeEvent{cs, reason}
		}),
	}, c.ev.options()...)
	if s.dial != nil {
		all = append(all, base.WithDialer(s.dial))
	}
	c.mux, c.c = testutil.TypedClient(t, append(all, opts...)...)
	if setup != nil {
		setup(c.mux)
	}
	testutil.Must(t, c.c.Connect(testutil.Ctx(t), s.addr))
	testutil.CloseClient(t, c.c, c.c)
	if got := testutil.Recv(t, connected, "client connected"); got != c.c.Session() {
		t.Errorf("OnConnected got session %p, want the client's %p", got, c.c.Session())
	}
	c.sess = testutil.Recv(t, s.opened, "server session opened")
	return c
}

// toAny converts netmessage options to the option lists of startServer
// and connect.
func toAny(opts []netmessage.Option) []any {
	out := make([]any, len(opts))
	for i, o := range opts {
		out[i] = o
	}
	return out
}

// newPair starts a server and connects one client, both with sc's wire
// and opts.
func newPair(t *testing.T, sc profile, setupServer func(*netmessage.Mux), setupClient func(*netmessage.Mux), opts ...netmessage.Option) (*server, *client) {
	t.Helper()
	s := startServer(t, sc.wire(), setupServer, toAny(opts)...)
	return s, s.connect(t, sc.wire(), setupClient, toAny(opts)...)
}

// newPipePair is newPair over in-memory pipes (testutil.Pipes), for a
// synctest bubble.
func newPipePair(t *testing.T, sc profile, setupServer func(*netmessage.Mux), setupClient func(*netmessage.Mux), opts ...netmessage.Option) (*server, *client) {
	t.Helper()
	ln := testutil.NewPipes()
	s := startServerOn(t, ln, ln.Dial, sc.wire(), setupServer, toAny(opts)...)
	return s, s.connect(t, sc.wire(), setupClient, toAny(opts)...)
}

// isNetTimeout reports whether err is a net.Error that timed out.
func isNetTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// remoteError returns err as a *netmessage.RemoteError, failing the test if
// it is not one.
func remoteError(t testing.TB, what string, err error) *netmessage.RemoteError {
	t.Helper()
	var re *netmessage.RemoteError
	if !errors.As(err, &re) {
		t.Fatalf("%s: got %v (%T), want a *netmessage.RemoteError", what, err, err)
	}
	return re
}

// closeError returns err as a *base.CloseError that matches base.ErrClosed,
// failing the test if it is not one.
func closeError(t testing.TB, what string, err error) *base.CloseError {
	t.Helper()
	var ce *base.CloseError
	if !errors.As(err, &ce) || !errors.Is(err, base.ErrClosed) {
		t.Fatalf("%s: got %v (%T), want a *base.CloseError", what, err, err)
	}
	return ce
}

// expectClose waits for a close event and checks its peer and reason.
func expectClose(t testing.TB, what string, ch <-chan closeEvent, peer *base.Session, reason base.CloseReason) {
	t.Helper()
	ev := testutil.Recv(t, ch, what)
	if ev.peer != peer {
		t.Errorf("%s: peer %p, want %p", what, ev.peer, peer)
	}
	if ev.reason != reason {
		t.Errorf("%s: reason %v, want %v", what, ev.reason, reason)
	}
}

// noErrors asserts that an end raised no error event.
func noErrors(t testing.TB, what string, ev *events) {
	t.Helper()
	select {
	case e := <-ev.errs:
		t.Errorf("%s: unexpected error event: %v", what, e.err)
	default:
	}
}
