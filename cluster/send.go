package cluster

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
)

// Send sends msg to every session bound to key, on every server of the
// cluster. It encodes msg once with the node's serializer; this server's
// sessions get it as netmessage.Broadcast sends (waiting, bounded
// by ctx, for room on the slow ones), the other servers through one
// NATS publish. Delivery is at most once. A nil error means msg was
// queued on this server's sessions and handed to NATS: it does not tell
// whether any session elsewhere is bound to key. With NATS unreachable,
// this server's sessions still get msg and the error matches
// ErrUnavailable.
func (n *Node) Send(ctx context.Context, key string, msg any) error {
	if err := checkName("key", key); err != nil {
		return err
	}
	tok := token(key)
	return n.send(ctx, n.prefix+"k."+tok, n.local(tok, true), msg)
}

// SendGroup sends msg to every session in group, on every server, as
// Send does for a key.
func (n *Node) SendGroup(ctx context.Context, group string, msg any) error {
	if err := checkName("group", group); err != nil {
		return err
	}
	tok := token(group)
	return n.send(ctx, n.prefix+"g."+tok, n.local(tok, false), msg)
}

// Broadcast sends msg to every open session of every server, as Send does
// for a key.
func (n *Node) Broadcast(ctx context.Context, msg any) error {
	return n.send(ctx, n.prefix+"all", n.srv.Sessions(), msg)
}

var packetPool = sync.Pool{New: func() any { return new([]byte) }}

func (n *Node) send(ctx context.Context, subject string, local []*base.Session, msg any) error {
	if n.ctx.Err() != nil {
		return ErrClosed
	}
	bp := packetPool.Get().(*[]byte)
	pkt, err := appendPayload(appendEnvelope((*bp)[:0], kindMessage, n.id), n.cfg.ser, msg)
	defer func() {
		if cap(pkt) <= 64<<10 {
			*bp = pkt[:0]
			packetPool.Put(bp)
		}
	}()
	if err != nil {
		return err
	}
	if len(pkt) > n.cfg.maxPacket {
		return fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(pkt), n.cfg.maxPacket)
	}
	errs := deliver(ctx, local, pkt[headerLen:])
	if n.nc.Status() != nats.CONNECTED {
		errs = append(errs, fmt.Errorf("%w: %s", ErrUnavailable, n.nc.Status()))
	} else if err := n.nc.Publish(subject, pkt); err != nil {
		errs = append(errs, publishError(err))
	}
	return errors.Join(errs...)
}

// publishError is the error of a publish or request that NATS refused:
// ErrTooLarge for a packet over the NATS server's max_payload, else
// ErrUnavailable.
func publishError(err error) error {
	if errors.Is(err, nats.ErrMaxPayload) {
		return fmt.Errorf("%w: %v", ErrTooLarge, err)
	}
	return fmt.Errorf("%w: %v", ErrUnavailable, err)
}

// deliver queues payload on every session of targets: at once on those
// with room, then waiting for the others together, bounded by ctx.
// Sessions that are closing are skipped.
func deliver(ctx context.Context, targets []*base.Session, payload []byte) []error {
	var (
		errs []error
		full []*base.Session
	)
	for _, s := range targets {
		switch err := s.TrySendMessage(ctx, payload); {
		case errors.Is(err, base.ErrWriteBufferFull):
			full = append(full, s)
		case err != nil && !errors.Is(err, base.ErrClosed):
			errs = append(errs, fmt.Errorf("session %d: %w", s.ID(), err))
		}
	}
	if len(full) > 0 {
		var (
			wg sync.WaitGroup
			mu sync.Mutex
		)
		for _, s := range full {
			wg.Go(func() {
				if err := s.SendMessage(ctx, payload); err != nil && !errors.Is(err, base.ErrClosed) {
					mu.Lock()
					errs = append(errs, fmt.Errorf("session %d: %w", s.ID(), err))
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	return errs
}

// Request sends req to one session bound to key, on this server if it
// has one, else on another server of the cluster, and returns its typed
// response. The response type comes from req's type, as for
// netmessage.Request. It waits until ctx ends or the node's request
// timeout (WithRequestTimeout) passes, whichever is first. It fails with
// an error matching
//   - ErrNoKey when no session of any server is bound to key, or the
//     session asked closed before it answered,
//   - base.ErrRequestTimeout (a net.Error, matching
//     context.DeadlineExceeded) after the request timeout, or the
//     session's response timeout (base.WithResponseTimeout on its server)
//     when that passes first, or ctx's error,
//   - ErrUnavailable when key is not bound here and NATS is unreachable,
//   - ErrTooLarge when req, or the response of a session of another
//     server, is larger than a packet may be (see WithMaxPacketSize and
//     the NATS server's max_payload),
//   - the session's *netmessage.RemoteError when it could not answer.
func Request[Req netmessage.RequestType[Resp], Resp any](ctx context.Context, n *Node, key string, req Req) (Resp, error) {
	var zero Resp
	if err := checkName("key", key); err != nil {
		return zero, err
	}
	if _, err := typeIDOf(reflect.TypeFor[Resp]()); err != nil {
		return zero, err
	}
	p, err := n.request(ctx, key, req)
	if err != nil {
		return zero, fmt.Errorf("cluster: request to key %q: %w", key, err)
	}
	resp, err := decodeResponse[Resp](n.cfg.ser, p)
	if err != nil {
		return zero, fmt.Errorf("cluster: request to key %q: %w", key, err)
	}
	return resp, nil
}

// request returns the netmessage response payload for req.
func (n *Node) request(ctx context.Context, key string, req any) ([]byte, error) {
	if n.ctx.Err() != nil {
		return nil, ErrClosed
	}
	dl, ok := ctx.Deadline()
	tctx, cancel := context.WithTimeout(ctx, n.cfg.timeout)
	defer cancel()
	// timedOut names the deadline that passed: the caller's, or the
	// node's request timeout (or a session's response timeout, which can
	// pass before either).
	timedOut := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if tctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
			if ok && !time.Now().Before(dl) { // the caller's deadline passed
				return context.DeadlineExceeded
			}
			return base.ErrRequestTimeout
		}
		return err
	}
	tok := token(key)
	for _, s := range n.local(tok, true) {
		if s.Context().Err() != nil {
			continue
		}
		payload, err := appendPayload(nil, n.cfg.ser, req)
		if err != nil {
			return nil, err
		}
		resp, err := s.Request(tctx, payload)
		if errors.Is(err, base.ErrClosed) {
			// As for a session of another server (see Node.serve).
			return nil, fmt.Errorf("%w: %w", ErrNoKey, err)
		}
		if err != nil {
			return nil, timedOut(err)
		}
		return resp, nil
	}
	if n.nc.Status() != nats.CONNECTED {
		return nil, fmt.Errorf("%w: %s", ErrUnavailable, n.nc.Status())
	}
	deadline, _ := tctx.Deadline()
	// Rounded up, so that the serving node gives up no sooner than this
	// one: its timeout reply, arriving first, is a session's own response
	// timeout.
	ms := min(max((time.Until(deadline)+time.Millisecond-1).Milliseconds(), 1), maxRequestTimeout.Milliseconds())
	pkt := binary.AppendUvarint(appendEnvelope(nil, kindRequest, n.id), uint64(ms))
	pkt, err := appendPayload(pkt, n.cfg.ser, req)
	if err != nil {
		return nil, err
	}
	if len(pkt) > n.cfg.maxPacket {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(pkt), n.cfg.maxPacket)
	}
	m, err := n.nc.RequestWithContext(tctx, n.prefix+"q."+tok, pkt)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return nil, ErrNoKey
	case err != nil && (tctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout)):
		return nil, timedOut(err)
	case err != nil:
		return nil, publishError(err)
	case len(m.Data) == 0:
		return nil, fmt.Errorf("%w: empty reply", ErrMalformed)
	}
	switch m.Data[0] {
	case replyOK:
		return m.Data[1:], nil
	case replyNoKey:
		return nil, ErrNoKey
	case replyTimeout:
		return nil, timedOut(base.ErrRequestTimeout)
	case replyFailed:
		return nil, fmt.Errorf("cluster: the remote server failed: %s", m.Data[1:])
	case replyTooBig:
		return nil, fmt.Errorf("%w: %s", ErrTooLarge, m.Data[1:])
	}
	return nil, fmt.Errorf("%w: reply status %d", ErrMalformed, m.Data[0])
}
