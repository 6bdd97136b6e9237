package interop

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/netmessage/dotnet"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// goRequest is the wire text of the WeatherRequest a Go end sends for
// city, with the zero Date.
func goRequest(id int, city string) string {
	return fmt.Sprintf(">Interop.WeatherRequest:%d:<WeatherRequest><City>%s</City><Date>0001-01-01T00:00:00</Date></WeatherRequest>\x04", id, city)
}

// readRaw reads exactly n bytes.
func (r *rawPeer) readRaw(n int) []byte {
	r.t.Helper()
	testutil.Must(r.t, r.conn.SetReadDeadline(time.Now().Add(testutil.WaitTime)))
	for len(r.buf) < n {
		var chunk [64]byte
		k, err := r.conn.Read(chunk[:])
		r.buf = append(r.buf, chunk[:k]...)
		testutil.Must(r.t, err)
	}
	b := r.buf[:n:n]
	r.buf = r.buf[n:]
	return b
}

// beat sends a lone terminator, the .NET heartbeat, every interval until
// the returned function is called.
func (r *rawPeer) beat(interval time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if _, err := r.conn.Write([]byte{dotnet.Terminator}); err != nil {
					return
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// Heartbeat settings for the tests: a beat every 50 ms, and 1 s of silence
// closes a connection (generous, so that a loaded machine does not close
// one before the raw peer's first beat).
const (
	beatInterval   = 50 * time.Millisecond
	receiveTimeout = time.Second
)

// TestRawHeartbeats: an idle Go end sends the .NET heartbeat, a lone 0x04,
// and a .NET peer's lone 0x04 keeps the Go end's receive timeout from
// closing the connection, for a Go server and a Go client alike.
func TestRawHeartbeats(t *testing.T) {
	hb := netmessage.WithTransport(base.WithHeartbeat(beatInterval, receiveTimeout))
	// idle checks that the Go end (its close events on closed) only sends
	// heartbeats to raw, and stays open for two receive timeouts while
	// raw sends only heartbeats.
	idle := func(t *testing.T, raw *rawPeer, closed <-chan closeEvent) {
		if got := raw.readRaw(3); string(got) != "\x04\x04\x04" {
			t.Fatalf("an idle Go end sent %q, want heartbeats", got)
		}
		stop := raw.beat(beatInterval)
		defer stop()
		select {
		case ev := <-closed:
			t.Fatalf("closed while the peer sent heartbeats: %v", ev.reason)
		case <-time.After(2 * receiveTimeout):
		}
	}
	t.Run("server", func(t *testing.T) {
		t.Parallel()
		s := startServer(t, serveWeather, hb)
		raw := dialRaw(t, s.addr)
		sess := testutil.Recv(t, s.opened, "the session")
		idle(t, raw, s.ev.closed)
		raw.send(weatherRequest(0, "Bonn"))
		raw.expect(weatherResponse(0, "Bonn"))
		raw.closeWrite()
		raw.expectEOF()
		expectClose(t, "server", s.ev.closed, sess, base.ReasonGraceful)
		s.ev.noErrors(t)
	})
	t.Run("client", func(t *testing.T) {
		t.Parallel()
		c, raw, ev := connectToRaw(t, nil, hb)
		idle(t, raw, ev.closed)
		answers := make(chan result, 1)
		go func() {
			resp, err := netmessage.Request(testutil.Ctx(t), c, WeatherRequest{City: "Bonn"})
			answers <- result{resp, err}
		}()
		raw.expect(goRequest(0, "Bonn"))
		raw.send(weatherResponse(0, "Bonn"))
		if r := testutil.Recv(t, answers, "the answer"); r.err != nil || r.resp.Forecast != "Sunny in Bonn" {
			t.Errorf("request: %+v, %v", r.resp, r.err)
		}
		ev.noErrors(t)
	})
}

// connectToRaw connects a Go client to a raw peer that plays a .NET
// server; setup, if not nil, registers the client's handlers before it
// connects. The client is closed when the test ends.
func connectToRaw(t *testing.T, setup func(*netmessage.Mux), opts ...netmessage.Option) (*base.Client, *rawPeer, *events) {
	t.Helper()
	ln := testutil.Listen(t)
	accepted := make(chan net.Conn, 1)
	go func() {
		conn, err := ln.Accept()
		ln.Close()
		if err == nil {
			accepted <- conn
		}
	}()
	ev := newEvents()
	m, c := testutil.TypedClient(t, append([]any{interop(opts...),
		base.OnDisconnected(func(cs *base.Session, r base.CloseReason) { ev.closed <- closeEvent{cs, r} })},
		ev.options()...)...)
	if setup != nil {
		setup(m)
	}
	testutil.Must(t, c.Connect(testutil.Ctx(t), ln.Addr().String()))
	testutil.CloseClient(t, c, c)
	return c, newRawPeer(t, testutil.Recv(t, accepted, "the connection")), ev
}

// TestRawSplitWrites writes the captured .NET client's packets to a Go
// server one byte per write, so that packets, and the UTF-8 "ä", arrive
// cut across reads: the server decodes them all and answers with the
// bytes the .NET server sent.
func TestRawSplitWrites(t *testing.T) {
	fromClient := captured(t, "session_client.bin")
	fromServer := captured(t, "session_server.bin")
	chats := make(chan ChatMessage, 1)
	s := startServer(t, func(srv *netmessage.Mux) {
		serveWeather(srv)
		netmessage.HandleMessage(srv, func(_ context.Context, _ *base.Session, m ChatMessage) { chats <- m })
	})
	raw := dialRaw(t, s.addr)
	testutil.Recv(t, s.opened, "the session")
	umlaut := captured(t, "bad_input.bin")[4] // >Interop.WeatherRequest:1:...Exämple...
	stream := fromClient[0] + fromClient[1] + umlaut
	for i := range len(stream) {
		raw.send(stream[i : i+1])
		time.Sleep(50 * time.Microsecond)
	}
	if m := testutil.Recv(t, chats, "the chat message"); m != (ChatMessage{Text: "hi from .NET client", Seq: 7}) {
		t.Errorf("server got %+v", m)
	}
	raw.expect(fromServer[1], "<Interop.WeatherResponse:1:<WeatherResponse><Forecast>Sunny in Exämple</Forecast></WeatherResponse>\x04")
	s.ev.noErrors(t)
}

// TestRawRequestIDs: the request ids a Go end sends count from 0, as the
// .NET ones do, for a Go client and a Go server alike.
func TestRawRequestIDs(t *testing.T) {
	t.Run("client", func(t *testing.T) {
		c, raw, ev := connectToRaw(t, nil)
		for id, city := range []string{"Bonn", "Köln", "Redmond"} {
			answers := make(chan result, 1)
			go func() {
				resp, err := netmessage.Request(testutil.Ctx(t), c, WeatherRequest{City: city})
				answers <- result{resp, err}
			}()
			raw.expect(goRequest(id, city))
			raw.send(weatherResponse(id, city))
			if r := testutil.Recv(t, answers, "the answer"); r.err != nil || r.resp.Forecast != "Sunny in "+city {
				t.Errorf("request %d: %+v, %v", id, r.resp, r.err)
			}
		}
		ev.noErrors(t)
	})
	t.Run("server", func(t *testing.T) {
		s := startServer(t, nil)
		raw := dialRaw(t, s.addr)
		sess := testutil.Recv(t, s.opened, "the session")
		for id, city := range []string{"Bonn", "Köln"} {
			answers := make(chan result, 1)
			go func() {
				resp, err := netmessage.Request(testutil.Ctx(t), sess, WeatherRequest{City: city})
				answers <- result{resp, err}
			}()
			raw.expect(goRequest(id, city))
			raw.send(weatherResponse(id, city))
			if r := testutil.Recv(t, answers, "the answer"); r.err != nil || r.resp.Forecast != "Sunny in "+city {
				t.Errorf("request %d: %+v, %v", id, r.resp, r.err)
			}
		}
		s.ev.noErrors(t)
	})
}

// TestDocSnippetsCompile: every Go snippet of docs/dotnet-interop.md must
// appear, line for line (indentation aside), in a test file of
// netmessage/dotnet or serializers/dotnetxml, where it is compiled (the
// worked example also runs, as Example_client).
func TestDocSnippetsCompile(t *testing.T) {
	doc := string(readRepoFile(t, "docs/dotnet-interop.md"))
	var sources []string
	for _, dir := range []string{"netmessage/dotnet", "serializers/dotnetxml"} {
		entries, err := os.ReadDir(repoPath(dir))
		testutil.Must(t, err)
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), "_test.go") {
				sources = append(sources, normalize(string(readRepoFile(t, dir+"/"+e.Name()))))
			}
		}
	}
	blocks := strings.Split(doc, "```go\n")[1:]
	if len(blocks) < 3 {
		t.Fatalf("found %d Go snippets in the doc, want at least 3", len(blocks))
	}
	for _, b := range blocks {
		snippet := normalize(b[:strings.Index(b, "```")])
		found := false
		for _, src := range sources {
			found = found || strings.Contains(src, snippet)
		}
		if !found {
			t.Errorf("this doc snippet is in no compiled test file:\n%s", snippet)
		}
	}
}

// normalize drops blank lines and each line's indentation.
func normalize(s string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// repoPath returns the path of a file of the repository.
func repoPath(name string) string { return filepath.Join("..", "..", filepath.FromSlash(name)) }

func readRepoFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(repoPath(name))
	testutil.Must(t, err)
	return bytes.TrimSpace(b)
}
