package base_test

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// preface is the native protocol's connection preface.
var preface = []byte("NMGO\x02")

// frame encodes one native frame.
func frame(t *testing.T, kind base.Kind, id uint32, payload string) []byte {
	t.Helper()
	b, err := native.New().Append(nil, base.Packet{Kind: kind, ID: id, Payload: []byte(payload)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawPeer is a hand-driven end of a connection that speaks the native
// protocol frame by frame, to play a peer that misbehaves.
type rawPeer struct {
	t     *testing.T
	conn  net.Conn
	proto base.Protocol
	buf   []byte
}

func newRawPeer(t *testing.T, conn net.Conn) *rawPeer {
	t.Cleanup(func() { conn.Close() })
	return &rawPeer{t: t, conn: conn, proto: native.New()}
}

// dialRaw connects a raw peer to addr.
func dialRaw(t *testing.T, addr string) *rawPeer {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, waitTime)
	if err != nil {
		t.Fatal(err)
	}
	return newRawPeer(t, conn)
}

// rawServer listens on loopback and hands over each accepted connection as
// a raw peer. The listener closes when the test ends.
func rawServer(t *testing.T) (addr string, peers <-chan *rawPeer) {
	t.Helper()
	ln := listen(t)
	ch := make(chan *rawPeer, 8)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			ch <- &rawPeer{t: t, conn: conn, proto: native.New()}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		close(ch)
		for p := range ch {
			p.conn.Close()
		}
	})
	return ln.Addr().String(), ch
}

// acceptRaw waits for the next raw peer and closes it when the test ends.
func acceptRaw(t *testing.T, peers <-chan *rawPeer) *rawPeer {
	t.Helper()
	p := receive(t, peers, "raw connection")
	t.Cleanup(func() { p.conn.Close() })
	return p
}

// send writes the chunks with a single Write.
func (r *rawPeer) send(chunks ...[]byte) {
	r.t.Helper()
	if err := r.conn.SetWriteDeadline(time.Now().Add(waitTime)); err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.conn.Write(bytes.Join(chunks, nil)); err != nil {
		r.t.Fatalf("raw write: %v", err)
	}
}

// next returns the next packet the peer sent, skipping the preface,
// heartbeats and cancels; at the end of the stream it returns io.EOF.
func (r *rawPeer) next() (base.Packet, error) {
	r.t.Helper()
	if err := r.conn.SetReadDeadline(time.Now().Add(waitTime)); err != nil {
		return base.Packet{}, err
	}
	for {
		p, n, err := r.proto.Decode(r.buf, 1<<30)
		if err != nil {
			return base.Packet{}, err
		}
		if n > 0 {
			r.buf = r.buf[n:]
			if p.Kind == base.KindNone || p.Kind == base.KindCancel {
				continue // cancels are advice the raw peer ignores
			}
			p.Payload = bytes.Clone(p.Payload)
			return p, nil
		}
		chunk := make([]byte, 4096)
		m, err := r.conn.Read(chunk)
		r.buf = append(r.buf, chunk[:m]...)
		if err != nil {
			if m > 0 {
				continue
			}
			return base.Packet{}, err
		}
	}
}

// expect reads the next packet and checks it.
func (r *rawPeer) expect(kind base.Kind, payload string) base.Packet {
	r.t.Helper()
	p, err := r.next()
	if err != nil {
		r.t.Fatalf("raw peer: want %s %q, got error %v", kind, payload, err)
	}
	if p.Kind != kind || string(p.Payload) != payload {
		r.t.Fatalf("raw peer: want %s %q, got %s %d %q", kind, payload, p.Kind, p.ID, p.Payload)
	}
	return p
}

// expectEnd reads until the stream ends and fails on any packet before.
func (r *rawPeer) expectEnd() {
	r.t.Helper()
	p, err := r.next()
	if err == nil {
		r.t.Fatalf("raw peer: want end of stream, got %s %d %q", p.Kind, p.ID, p.Payload)
	}
	// EOF, or a reset when the other end closed with bytes unread.
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		r.t.Fatalf("raw peer: timed out waiting for the end of the stream")
	}
}
