package bench

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The floor is the least a multiplexed request/response connection can
// do, written for this comparison alone: frames of a type byte, a
// big-endian request id and payload length, and the payload. Each end has
// one reader (with a bufio.Reader) and one writer goroutine that writes
// whatever senders queued since its last write; the server answers each
// request from its reader goroutine by echoing the payload. Like the
// native protocol's defaults, each end sends a heartbeat frame when it
// wrote nothing for a heartbeat interval (2 s unless set with
// Contender.WithHeartbeat) and gives up on a peer silent for 2.5 intervals
// (5 s), so that idle connections cost what heartbeats cost. There are no
// limits, handler goroutines, hooks or write timeouts.

const (
	floorHeartbeat = 0
	floorRequest   = 1
	floorResponse  = 2
	floorMessage   = 3
	floorHeader    = 9
	floorMaxFrame  = 1 << 20
	floorMaxQueue  = 1 << 20 // bytes queued before senders wait

	floorHeartbeatInterval = 2 * time.Second // the default, as base's
)

// Floor returns the raw TCP floor contender.
func Floor() Contender { return floor(floorHeartbeatInterval) }

// floor returns the floor with heartbeats every interval.
func floor(interval time.Duration) Contender {
	return Contender{
		Name: "floor",
		Note: "hand-written length-prefixed echo over raw TCP: the limit" + heartbeatNote(interval, floorHeartbeatInterval),
		Serve: func(ln net.Listener) (Server, error) {
			return serveFloor(ln, interval)
		},
		Dial: func(ctx context.Context, addr string) (Client, error) {
			return dialFloor(ctx, addr, interval)
		},
		heartbeat:     interval,
		withHeartbeat: floor,
	}
}

// floorWriter is one connection's writer: senders append frames to buf
// under mu and kick the writer goroutine, which swaps buffers and writes
// and sends a heartbeat when it wrote nothing else for a heartbeat
// interval.
type floorWriter struct {
	conn      net.Conn
	heartbeat time.Duration
	mu        sync.Mutex
	room      *sync.Cond // signalled when the writer takes buf
	buf       []byte
	err       error
	kick      chan struct{}
	stop      chan struct{}
	done      chan struct{}
}

func newFloorWriter(conn net.Conn, heartbeat time.Duration) *floorWriter {
	w := &floorWriter{
		conn:      conn,
		heartbeat: heartbeat,
		kick:      make(chan struct{}, 1),
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	w.room = sync.NewCond(&w.mu)
	go w.loop()
	return w
}

func (w *floorWriter) frame(typ byte, id uint32, payload []byte) error {
	w.mu.Lock()
	for len(w.buf) >= floorMaxQueue && w.err == nil {
		w.room.Wait()
	}
	if w.err != nil {
		w.mu.Unlock()
		return w.err
	}
	w.buf = append(w.buf, typ)
	w.buf = binary.BigEndian.AppendUint32(w.buf, id)
	w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(len(payload)))
	w.buf = append(w.buf, payload...)
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
	return nil
}

func (w *floorWriter) loop() {
	defer close(w.done)
	t := time.NewTicker(w.heartbeat)
	defer t.Stop()
	var out []byte
	wrote := false // something other than a heartbeat since the last tick
	for {
		beat := false
		select {
		case <-w.kick:
		case <-t.C:
			if wrote {
				wrote = false
				continue
			}
			w.mu.Lock()
			w.buf = append(w.buf, make([]byte, floorHeader)...) // type 0: a heartbeat
			w.mu.Unlock()
			beat = true
		case <-w.stop:
			return
		}
		for {
			w.gather()
			w.mu.Lock()
			out, w.buf = w.buf, out[:0]
			w.room.Broadcast()
			w.mu.Unlock()
			if len(out) == 0 {
				break
			}
			if _, err := w.conn.Write(out); err != nil {
				w.fail(err)
				w.conn.Close() // so that the reader stops too
				return
			}
			wrote = !beat
		}
	}
}

// gather yields while the queued bytes grow (up to four times), so that
// one write carries the frames of every sender that was runnable.
func (w *floorWriter) gather() {
	n := w.queued()
	for range 4 {
		if n == 0 || n >= 64<<10 {
			return
		}
		runtime.Gosched()
		m := w.queued()
		if m == n {
			return
		}
		n = m
	}
}

func (w *floorWriter) queued() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.buf)
}

func (w *floorWriter) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.room.Broadcast()
	w.mu.Unlock()
}

// close stops the writer; the caller closes the connection.
func (w *floorWriter) close() {
	w.fail(net.ErrClosed)
	close(w.stop)
	<-w.done
}

// deadlineReader sets the receive timeout before each read of the
// connection (a bufio.Reader's fill, not each frame).
type deadlineReader struct {
	conn    net.Conn
	timeout time.Duration
}

func (d deadlineReader) Read(p []byte) (int, error) {
	if err := d.conn.SetReadDeadline(time.Now().Add(d.timeout)); err != nil {
		return 0, err
	}
	return d.conn.Read(p)
}

// readFrame reads one frame's header and payload into *payload.
func readFrame(r *bufio.Reader, hdr *[floorHeader]byte, payload *[]byte) error {
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return err
	}
	n := binary.BigEndian.Uint32(hdr[5:])
	if n > floorMaxFrame {
		return fmt.Errorf("floor: frame of %d bytes", n)
	}
	if cap(*payload) < int(n) {
		*payload = make([]byte, n)
	}
	*payload = (*payload)[:n]
	_, err := io.ReadFull(r, *payload)
	return err
}

type floorServer struct {
	ln        net.Listener
	heartbeat time.Duration
	received  atomic.Int64
	wg        sync.WaitGroup
	mu        sync.Mutex
	conns     map[net.Conn]struct{}
}

func serveFloor(ln net.Listener, heartbeat time.Duration) (Server, error) {
	s := &floorServer{ln: ln, heartbeat: heartbeat, conns: make(map[net.Conn]struct{})}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

func (s *floorServer) accept() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.conns == nil {
			s.mu.Unlock()
			conn.Close()
			return
		}
		s.conns[conn] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(conn)
	}
}

func (s *floorServer) serve(conn net.Conn) {
	defer s.wg.Done()
	w := newFloorWriter(conn, s.heartbeat)
	defer w.close()
	r := bufio.NewReaderSize(deadlineReader{conn, receiveTimeout(s.heartbeat)}, 64<<10)
	var hdr [floorHeader]byte
	var payload []byte
	for {
		if err := readFrame(r, &hdr, &payload); err != nil {
			conn.Close()
			return
		}
		switch hdr[0] {
		case floorRequest:
			if err := w.frame(floorResponse, binary.BigEndian.Uint32(hdr[1:]), payload); err != nil {
				conn.Close()
				return
			}
		case floorMessage:
			s.received.Add(1)
		}
	}
}

func (s *floorServer) Received() int64 { return s.received.Load() }

func (s *floorServer) Close() error {
	s.ln.Close()
	s.mu.Lock()
	for conn := range s.conns {
		conn.Close()
	}
	s.conns = nil
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// floorCall is a request waiting for its response. Calls are pooled, and
// so are their response buffers.
type floorCall struct {
	resp []byte
	done chan error
}

var floorCalls = sync.Pool{New: func() any { return &floorCall{done: make(chan error, 1)} }}

type floorClient struct {
	conn    net.Conn
	timeout time.Duration // the receive timeout
	w       *floorWriter
	mu      sync.Mutex
	pending map[uint32]*floorCall
	nextID  uint32
	err     error
	done    chan struct{}
}

func dialFloor(ctx context.Context, addr string, heartbeat time.Duration) (Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &floorClient{
		conn:    conn,
		timeout: receiveTimeout(heartbeat),
		w:       newFloorWriter(conn, heartbeat),
		pending: make(map[uint32]*floorCall),
		done:    make(chan struct{}),
	}
	go c.read()
	return c, nil
}

func (c *floorClient) read() {
	defer close(c.done)
	r := bufio.NewReaderSize(deadlineReader{c.conn, c.timeout}, 64<<10)
	var hdr [floorHeader]byte
	var err error
	for {
		if _, err = io.ReadFull(r, hdr[:]); err != nil {
			break
		}
		id, n := binary.BigEndian.Uint32(hdr[1:]), binary.BigEndian.Uint32(hdr[5:])
		if hdr[0] == floorHeartbeat && n == 0 {
			continue
		}
		if hdr[0] != floorResponse || n > floorMaxFrame {
			err = errors.New("floor: bad frame")
			break
		}
		c.mu.Lock()
		call := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if call == nil {
			err = fmt.Errorf("floor: response to unknown id %d", id)
			break
		}
		if cap(call.resp) < int(n) {
			call.resp = make([]byte, n)
		}
		call.resp = call.resp[:n]
		_, err = io.ReadFull(r, call.resp)
		call.done <- err
		if err != nil {
			break
		}
	}
	c.conn.Close()
	c.mu.Lock()
	c.err = err
	for id, call := range c.pending {
		delete(c.pending, id)
		call.done <- err
	}
	c.mu.Unlock()
}

func (c *floorClient) Call(ctx context.Context, size Size) error {
	req := rawPayloads[size]
	call := floorCalls.Get().(*floorCall)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return c.err
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = call
	c.mu.Unlock()
	if err := c.w.frame(floorRequest, id, req); err != nil {
		// The reader fails every pending call once the connection breaks.
		<-call.done
		return err
	}
	if err := <-call.done; err != nil {
		return err
	}
	if len(call.resp) != len(req) {
		return fmt.Errorf("floor: %d-byte response to a %d-byte request", len(call.resp), len(req))
	}
	floorCalls.Put(call)
	return nil
}

func (c *floorClient) Send(ctx context.Context, size Size) error {
	return c.w.frame(floorMessage, 0, rawPayloads[size])
}

func (c *floorClient) Close() error {
	c.conn.Close()
	<-c.done
	c.w.close()
	return nil
}
