package base

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

const (
	readBufferSize    = 4 << 10  // the read buffer's starting size
	maxIdleReadBuffer = 64 << 10 // a larger empty read buffer is dropped
	frameOverhead     = 1 << 10  // bytes a frame may add to its payload
	itemOverhead      = 64       // bytes charged per held packet besides its payload
)

// errStop ends the read loop because the session is closing.
var errStop = errors.New("stop")

// readLoop is the reader goroutine: the only one that reads from the
// connection. It decodes packets in place and hands them on without
// waiting for user code, except when the limits on held bytes are reached.
func (s *Session) readLoop() {
	defer close(s.readerDone)
	reason, err := s.read()
	switch reason {
	case ReasonGraceful, ReasonProtocolError:
		s.finish(reason, err)
	default:
		s.fail(reason, err)
	}
}

func (s *Session) read() (CloseReason, error) {
	buf := make([]byte, 0, readBufferSize)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, cap(buf))...)[:len(buf)]
		}
		if s.cfg.receiveTimeout > 0 {
			if err := s.conn.SetReadDeadline(time.Now().Add(s.cfg.receiveTimeout)); err != nil {
				return ReasonNetworkError, err
			}
		}
		n, rerr := s.conn.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		off := 0
		for off < len(buf) {
			p, used, err := s.proto.Decode(buf[off:], s.cfg.maxPacketSize)
			if err != nil {
				return ReasonProtocolError, err
			}
			if used == 0 {
				break
			}
			if used < 0 || used > len(buf)-off {
				return ReasonProtocolError, fmt.Errorf("netmessage: protocol consumed %d of %d bytes", used, len(buf)-off)
			}
			off += used
			if err := s.handle(p); err != nil {
				if err == errStop {
					return ReasonClosedLocally, nil
				}
				return ReasonProtocolError, err
			}
		}
		rest := copy(buf, buf[off:])
		buf = buf[:rest]
		if rest > s.cfg.maxPacketSize+frameOverhead {
			return ReasonProtocolError, fmt.Errorf("%w: more than %d bytes without a whole packet", ErrPacketTooLarge, rest)
		}
		if rest == 0 && cap(buf) > maxIdleReadBuffer {
			buf = make([]byte, 0, readBufferSize)
		}
		if rerr != nil {
			var ne net.Error
			switch {
			case errors.Is(rerr, io.EOF) && rest > 0:
				return ReasonProtocolError, fmt.Errorf("netmessage: stream ended inside a packet (%d bytes): %w", rest, io.ErrUnexpectedEOF)
			case errors.Is(rerr, io.EOF):
				return ReasonGraceful, nil
			case errors.As(rerr, &ne) && ne.Timeout():
				return ReasonConnectionLost, nil
			}
			return ReasonNetworkError, rerr
		}
	}
}

// handle passes one decoded packet on. p.Payload aliases the read buffer, so
// whatever keeps it copies it.
func (s *Session) handle(p Packet) error {
	switch p.Kind {
	case KindNone:
		return nil
	case KindMessage:
		if s.cfg.onMessage == nil {
			return nil
		}
		if !s.acquire(len(p.Payload)) {
			return errStop
		}
		s.push(inbound{buf: getBuf(p.Payload)})
		return nil
	case KindRequest:
		if s.draining.Load() {
			return nil // not accepted: the peer's call fails when we close
		}
		if s.cfg.onRequest == nil {
			s.push(inbound{err: fmt.Errorf("%w: request %d dropped", ErrNoHandler, p.ID)})
			return nil
		}
		if !s.acquire(len(p.Payload)) {
			return errStop
		}
		s.startJob(job{id: p.ID, buf: getBuf(p.Payload)})
		return nil
	case KindResponse:
		return s.resolve(p.ID, p.Payload)
	}
	return fmt.Errorf("netmessage: unknown packet kind %d", p.Kind)
}

// acquire reserves room for n payload bytes among those held for hooks and
// handlers, waiting while the limit is reached. One packet always fits.
func (s *Session) acquire(n int) bool {
	cost := int64(n + itemOverhead)
	for {
		q := s.queued.Load()
		if q == 0 || q+cost <= int64(s.cfg.maxQueuedBytes) {
			s.queued.Add(cost)
			return true
		}
		select {
		case <-s.unblock:
		case <-s.closing:
			return false
		}
	}
}

func (s *Session) release(n int) {
	s.queued.Add(-int64(n + itemOverhead))
	select {
	case s.unblock <- struct{}{}:
	default:
	}
}

// finish ends a session whose peer ended its stream or sent bad input:
// nothing more will be read, so pending requests fail now; running
// handlers may still answer (bounded by the disconnect timeout); then what
// is queued is written, the write side half-closed and the connection
// closed.
func (s *Session) finish(reason CloseReason, err error) {
	s.failPending(&CloseError{Reason: reason, Err: err})
	if s.draining.CompareAndSwap(false, true) {
		t := time.NewTimer(s.cfg.disconnectTimeout)
		select {
		case <-s.idle():
		case <-t.C:
		case <-s.closing:
		}
		t.Stop()
		s.closeWrite()
	}
	// Else Disconnect started the handshake and asks for the half-close.
	select {
	case <-s.writerDone:
	case <-s.closing:
	}
	s.fail(reason, err)
}
