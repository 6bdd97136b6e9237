package base

import (
	"context"
	"fmt"
	"time"
)

type writeState uint8

const (
	writeOpen     writeState = iota
	writeDraining            // flush what is queued, then half-close
	writeClosed
)

// maxKeptWriteBuffer is the largest write buffer kept for reuse; a larger one
// (after a burst or a big packet) is left to the garbage collector.
const maxKeptWriteBuffer = 256 << 10

// SendMessage queues a one-way message for sending. It waits, bounded by ctx,
// only while the write buffer is full. A nil error means the message is
// queued: the writer sends it unless the connection breaks first (a graceful
// Disconnect sends everything queued). Use a request when the sender must
// know the peer received it.
func (s *Session) SendMessage(ctx context.Context, payload []byte) error {
	return s.send(ctx, Packet{Kind: KindMessage, Payload: payload}, true)
}

// send encodes p into the write buffer and wakes the writer. This is the one
// place where packets enter the connection's byte stream. User sends are
// refused once a graceful disconnect has begun; responses are not, so
// handlers can still answer.
func (s *Session) send(ctx context.Context, p Packet, user bool) error {
	if len(p.Payload) > s.cfg.maxPacketSize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrPacketTooLarge, len(p.Payload), s.cfg.maxPacketSize)
	}
	s.wmu.Lock()
	for {
		if s.wstate != writeOpen || (user && s.draining.Load()) {
			s.wmu.Unlock()
			return s.closedErr()
		}
		if len(s.wbuf) < s.cfg.maxWriteBuffer {
			break
		}
		if s.wwait == nil {
			s.wwait = make(chan struct{})
		}
		wait := s.wwait
		s.wmu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
		s.wmu.Lock()
	}
	b, err := s.proto.Append(s.wbuf, p)
	if err == nil {
		s.wbuf = b
	}
	s.wmu.Unlock()
	if err != nil {
		return fmt.Errorf("netmessage: encode %s: %w", p.Kind, err)
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return nil
}

// closeWrite asks the writer to flush what is queued and half-close.
func (s *Session) closeWrite() {
	s.wmu.Lock()
	if s.wstate == writeOpen {
		s.wstate = writeDraining
	}
	s.wmu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// writeLoop is the writer goroutine: the only one that writes to the
// connection. Each round takes all queued bytes at once (senders go on
// filling a second buffer meanwhile) and writes them with one call.
func (s *Session) writeLoop() {
	defer close(s.writerDone)
	var tick <-chan time.Time
	hb := s.proto.Heartbeat()
	if s.cfg.heartbeat > 0 && len(hb) > 0 {
		t := time.NewTicker(s.cfg.heartbeat)
		defer t.Stop()
		tick = t.C
	}
	var out []byte
	for {
		beat := false
		select {
		case <-s.kick:
		case <-tick:
			if s.wrote.Swap(false) {
				continue // the peer heard from us during this interval
			}
			s.wmu.Lock()
			if s.wstate != writeClosed {
				s.wbuf = append(s.wbuf, hb...)
			}
			s.wmu.Unlock()
			beat = true
		case <-s.closing:
			return
		}
		for {
			s.wmu.Lock()
			out, s.wbuf = s.wbuf, out[:0]
			if s.wwait != nil {
				close(s.wwait)
				s.wwait = nil
			}
			halfClose := len(out) == 0 && s.wstate == writeDraining
			if halfClose {
				s.wstate = writeClosed
			}
			s.wmu.Unlock()
			if halfClose {
				s.halfClose()
				return
			}
			if len(out) == 0 {
				break
			}
			if err := s.write(out); err != nil {
				s.fail(ReasonNetworkError, err)
				return
			}
			s.wrote.Store(true)
			if cap(out) > maxKeptWriteBuffer {
				out = nil
			}
		}
		if beat {
			// A heartbeat is not "something else written": without this,
			// the next tick would skip and heartbeats go out every other
			// interval.
			s.wrote.Store(false)
		}
	}
}

func (s *Session) write(b []byte) error {
	if err := s.conn.SetWriteDeadline(time.Now().Add(s.cfg.writeTimeout)); err != nil {
		return err
	}
	_, err := s.conn.Write(b)
	return err
}

type closeWriter interface{ CloseWrite() error }

// halfClose ends this side of the stream so the peer reads EOF. A
// connection that cannot half-close is closed.
func (s *Session) halfClose() {
	cw, ok := s.conn.(closeWriter)
	if !ok {
		s.fail(ReasonGraceful, nil)
		return
	}
	if err := cw.CloseWrite(); err != nil {
		s.fail(ReasonNetworkError, err)
	}
}
