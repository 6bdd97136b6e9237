package cluster

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/netmessage-go/netmessage/base"
)

// dispatch takes the packets of the key, group and broadcast subjects off
// NATS, one at a time in the order NATS delivered them.
func (n *Node) dispatch() {
	defer n.wg.Done()
	for {
		select {
		case <-n.ctx.Done():
			return
		case m := <-n.in:
			n.handle(m)
		}
	}
}

// handle delivers one packet; bad input becomes an error event.
func (n *Node) handle(m *nats.Msg) {
	if err := n.handlePacket(m); err != nil {
		n.report(&PacketError{Subject: m.Subject, Err: err})
	}
}

func (n *Node) handlePacket(m *nats.Msg) error {
	d := m.Data
	if len(d) > n.cfg.maxPacket {
		if m.Reply != "" {
			m.Respond(failure(replyFailed, "request too large"))
		}
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(d), n.cfg.maxPacket)
	}
	if len(d) < headerLen {
		return fmt.Errorf("%w: %w", ErrMalformed, errShort)
	}
	origin := binary.BigEndian.Uint64(d[1:headerLen])
	rest, ok := strings.CutPrefix(m.Subject, n.prefix)
	if !ok {
		return fmt.Errorf("%w: foreign subject", ErrMalformed)
	}
	switch d[0] {
	case kindMessage:
		if origin == n.id {
			return nil // delivered here when sent
		}
		payload := d[headerLen:]
		if err := checkPayload(payload); err != nil {
			return err
		}
		var targets []*base.Session
		switch {
		case rest == "all":
			targets = n.srv.Sessions()
		case strings.HasPrefix(rest, "k."):
			targets = n.local(rest[2:], true)
		case strings.HasPrefix(rest, "g."):
			targets = n.local(rest[2:], false)
		default:
			return fmt.Errorf("%w: message on a request subject", ErrMalformed)
		}
		return n.deliverNow(m.Subject, targets, payload)
	case kindRequest:
		if m.Reply == "" || !strings.HasPrefix(rest, "q.") {
			return fmt.Errorf("%w: request without reply subject or on a message subject", ErrMalformed)
		}
		ms, k := binary.Uvarint(d[headerLen:])
		if k <= 0 || ms == 0 || ms > uint64(maxRequestTimeout/time.Millisecond) {
			m.Respond(failure(replyFailed, "malformed request"))
			return fmt.Errorf("%w: bad request timeout", ErrMalformed)
		}
		payload := d[headerLen+k:]
		if err := checkPayload(payload); err != nil {
			m.Respond(failure(replyFailed, "malformed request"))
			return err
		}
		n.serve(m, rest[2:], time.Duration(ms)*time.Millisecond, payload)
		return nil
	}
	return fmt.Errorf("%w: unknown kind %d", ErrMalformed, d[0])
}

// deliverNow queues payload, received on subject, on every session of
// targets without waiting: on the session itself while its write buffer
// has room, else on the session's backlog, which a goroutine of its own
// drains in order. A backlog over WithMaxBacklog bytes drops the payload
// with an error event. So the dispatcher never waits for one session, and
// each session still gets what it is sent in order.
func (n *Node) deliverNow(subject string, targets []*base.Session, payload []byte) error {
	var errs []error
	n.blmu.Lock()
	defer n.blmu.Unlock()
	for _, s := range targets {
		if bl := n.backlogs[s]; bl != nil {
			if bl.bytes+len(payload) > n.cfg.maxBacklog {
				errs = append(errs, fmt.Errorf("session %d: backlog of %d bytes full, message dropped: %w", s.ID(), bl.bytes, base.ErrWriteBufferFull))
				continue
			}
			bl.q = append(bl.q, queued{subject, payload})
			bl.bytes += len(payload)
			continue
		}
		err := s.TrySendMessage(n.ctx, payload)
		switch {
		case errors.Is(err, base.ErrWriteBufferFull):
			bl := &backlog{q: []queued{{subject, payload}}, bytes: len(payload)}
			n.backlogs[s] = bl
			n.wg.Go(func() { n.drain(s, bl) })
		case err != nil && !errors.Is(err, base.ErrClosed) && n.ctx.Err() == nil:
			errs = append(errs, fmt.Errorf("session %d: %w", s.ID(), err))
		}
	}
	return errors.Join(errs...)
}

// backlog holds what a session with a full write buffer is still to get.
type backlog struct {
	q     []queued
	bytes int
}

// queued is a payload in a backlog and the subject it came on.
type queued struct {
	subject string
	payload []byte
}

// drain sends a session its backlog, waiting for room, until it is empty
// or the session closes. A payload the session refuses (larger than its
// packet limit) is dropped with an error event, and the rest still goes.
func (n *Node) drain(s *base.Session, bl *backlog) {
	for {
		n.blmu.Lock()
		if len(bl.q) == 0 {
			delete(n.backlogs, s)
			n.blmu.Unlock()
			return
		}
		p := bl.q[0]
		bl.q[0] = queued{}
		bl.q = bl.q[1:]
		bl.bytes -= len(p.payload)
		n.blmu.Unlock()
		err := s.SendMessage(n.ctx, p.payload)
		if err != nil && !errors.Is(err, base.ErrClosed) && n.ctx.Err() == nil {
			n.report(&PacketError{Subject: p.subject, Err: fmt.Errorf("session %d: %w", s.ID(), err)})
			continue
		}
		if err != nil {
			n.blmu.Lock()
			delete(n.backlogs, s)
			n.blmu.Unlock()
			return
		}
	}
}

// serve answers a request from another server with the first open session
// bound to the key, in a goroutine of its own.
func (n *Node) serve(m *nats.Msg, tok string, timeout time.Duration, payload []byte) {
	var target *base.Session
	for _, s := range n.local(tok, true) {
		if s.Context().Err() == nil {
			target = s
			break
		}
	}
	if target == nil {
		m.Respond([]byte{replyNoKey})
		return
	}
	select {
	case n.slots <- struct{}{}:
	default:
		m.Respond(failure(replyFailed, "too many requests"))
		n.report(&PacketError{Subject: m.Subject, Err: errors.New("request refused: too many requests")})
		return
	}
	n.wg.Go(func() {
		defer func() { <-n.slots }()
		ctx, cancel := context.WithTimeout(n.ctx, timeout)
		defer cancel()
		resp, err := target.Request(ctx, payload)
		var reply []byte
		switch {
		case err == nil:
			reply = append(append(make([]byte, 0, 1+len(resp)), replyOK), resp...)
		case errors.Is(err, context.DeadlineExceeded):
			reply = []byte{replyTimeout}
		case errors.Is(err, base.ErrClosed):
			reply = []byte{replyNoKey}
		default:
			reply = failure(replyFailed, err.Error())
		}
		err = m.Respond(reply)
		if errors.Is(err, nats.ErrMaxPayload) {
			// The caller learns it now rather than at its timeout.
			err = m.Respond(failure(replyTooBig, fmt.Sprintf("response of %d bytes: %v", len(reply), err)))
		}
		if err != nil && n.ctx.Err() == nil {
			n.report(fmt.Errorf("cluster: answer a request: %w", err))
		}
	})
}

// failure returns a reply with a status and a text.
func failure(status byte, text string) []byte {
	if len(text) > 1024 {
		text = text[:1024]
	}
	return append([]byte{status}, text...)
}
