package interop

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/netmessage/dotnet"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// captured returns the packets of a testdata file (bytes copied from the
// captures of the .NET library), each with its terminator.
func captured(t testing.TB, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for len(b) > 0 {
		i := bytes.IndexByte(b, dotnet.Terminator)
		out = append(out, string(b[:i+1]))
		b = b[i+1:]
	}
	return out
}

// rawPeer plays a .NET endpoint on a plain TCP connection.
type rawPeer struct {
	t    testing.TB
	conn *net.TCPConn
	buf  []byte
}

func newRawPeer(t testing.TB, conn net.Conn) *rawPeer {
	t.Cleanup(func() { conn.Close() })
	return &rawPeer{t: t, conn: conn.(*net.TCPConn)}
}

// dialRaw connects a raw peer to addr.
func dialRaw(t testing.TB, addr string) *rawPeer {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	testutil.Must(t, err)
	return newRawPeer(t, conn)
}

// send writes the packets in one write.
func (r *rawPeer) send(packets ...string) {
	r.t.Helper()
	var b []byte
	for _, p := range packets {
		b = append(b, p...)
	}
	_, err := r.conn.Write(b)
	testutil.Must(r.t, err)
}

// next returns the next packet, with its terminator, skipping heartbeats.
// It returns io.EOF when the peer half-closed between packets.
func (r *rawPeer) next() (string, error) {
	r.t.Helper()
	testutil.Must(r.t, r.conn.SetReadDeadline(time.Now().Add(testutil.WaitTime)))
	for {
		for len(r.buf) > 0 && r.buf[0] == dotnet.Terminator {
			r.buf = r.buf[1:]
		}
		if i := bytes.IndexByte(r.buf, dotnet.Terminator); i >= 0 {
			p := string(r.buf[:i+1])
			r.buf = r.buf[i+1:]
			return p, nil
		}
		if err := r.fill(); err != nil {
			if errors.Is(err, io.EOF) && len(r.buf) > 0 {
				return "", io.ErrUnexpectedEOF
			}
			return "", err
		}
	}
}

// expect reads n packets and checks that they are want, in any order.
func (r *rawPeer) expect(want ...string) {
	r.t.Helper()
	got := make([]string, len(want))
	for i := range got {
		p, err := r.next()
		if err != nil {
			r.t.Fatalf("after %q: %v, want %d more packets of %q", got[:i], err, len(want)-i, want)
		}
		got[i] = p
	}
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		r.t.Fatalf("got packets\n%q\nwant\n%q", got, want)
	}
}

// expectEOF reads to the end of the stream, which must come with no more
// packets.
func (r *rawPeer) expectEOF() {
	r.t.Helper()
	if p, err := r.next(); err != io.EOF {
		r.t.Fatalf("got %q, %v; want the end of the stream", p, err)
	}
}

// expectHeartbeat reads to the next heartbeat, a lone terminator, which
// must come before any other packet.
func (r *rawPeer) expectHeartbeat() {
	r.t.Helper()
	testutil.Must(r.t, r.conn.SetReadDeadline(time.Now().Add(testutil.WaitTime)))
	for len(r.buf) == 0 {
		if err := r.fill(); err != nil && len(r.buf) == 0 {
			r.t.Fatalf("waiting for a heartbeat: %v", err)
		}
	}
	if r.buf[0] != dotnet.Terminator {
		r.t.Fatalf("got %q, want a heartbeat", r.buf)
	}
	r.buf = r.buf[1:]
}

// fill reads once from the connection into r.buf.
func (r *rawPeer) fill() error {
	var chunk [4096]byte
	n, err := r.conn.Read(chunk[:])
	r.buf = append(r.buf, chunk[:n]...)
	return err
}

// closeWrite half-closes, as .NET NetMessage does to disconnect.
func (r *rawPeer) closeWrite() {
	r.t.Helper()
	testutil.Must(r.t, r.conn.CloseWrite())
}
