package cluster

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
)

// Presence packets, all on the subject "<prefix>p", so that one node's
// heartbeats and changes arrive in the order it sent them:
//
//	heartbeat: 11 node(8) uvarint(seq) uvarint(len(name)) name [uvarint(interval µs)]
//	change:    12 node(8) uvarint(seq) op(1 bound, 0 unbound) uvarint(len(key)) key
//	goodbye:   13 node(8)
//
// seq counts a node's changes; interval is the sender's heartbeat interval
// (absent from older nodes: the receiver's own is assumed), so that nodes
// with different intervals expire each other by the sender's. A node that misses a change (a gap in seq,
// or a heartbeat's seq that differs from its own count) asks the other
// for its whole key set on "<prefix>s.<node hex>": the answer is
// uvarint(seq) uvarint(len(name)) name uvarint(count) (uvarint(len(key)) key)*.
const (
	presHeartbeat byte = 0x11
	presChange    byte = 0x12
	presBye       byte = 0x13
)

// peer is what a node knows of another.
type peer struct {
	name    string
	seq     uint64
	keys    map[string]struct{}
	seen    time.Time
	every   time.Duration // its heartbeat interval
	synced  bool          // keys are complete up to seq
	syncing bool          // a snapshot is on its way
}

// NodeInfo is one server in presence.
type NodeInfo struct {
	Name string   // see WithName
	Keys []string // the keys bound to its sessions, sorted
}

// Nodes returns the servers of the cluster that this node knows to be
// alive, itself included, ordered by name. A server leaves the list when
// it closes its node, or when nothing has been heard from it for two of
// its heartbeat intervals (see WithHeartbeat). A server joins the list with
// its name, from its first heartbeat or its key set, whichever comes
// first. While NATS is unreachable the list shrinks to this server.
func (n *Node) Nodes() []NodeInfo {
	var out []NodeInfo
	n.mu.RLock()
	self := NodeInfo{Name: n.cfg.name}
	for _, e := range n.keys {
		self.Keys = append(self.Keys, e.name)
	}
	n.mu.RUnlock()
	slices.Sort(self.Keys)
	out = append(out, self)
	n.pmu.Lock()
	for _, p := range n.peers {
		if p.name == "" {
			continue // heard of by a change only: listed from its heartbeat or key set
		}
		info := NodeInfo{Name: p.name}
		for k := range p.keys {
			info.Keys = append(info.Keys, k)
		}
		slices.Sort(info.Keys)
		out = append(out, info)
	}
	n.pmu.Unlock()
	slices.SortFunc(out, func(a, b NodeInfo) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out
}

// Lookup returns the names of the servers where key is bound to a
// session, sorted; none when key is offline. It reads this node's table,
// which follows the others' changes as NATS brings them (usually within
// milliseconds, within a heartbeat interval after a lost change).
func (n *Node) Lookup(key string) []string {
	var out []string
	n.mu.RLock()
	if n.keys[token(key)] != nil {
		out = append(out, n.cfg.name)
	}
	n.mu.RUnlock()
	n.pmu.Lock()
	for _, p := range n.peers {
		if _, ok := p.keys[key]; ok {
			out = append(out, p.name)
		}
	}
	n.pmu.Unlock()
	slices.Sort(out)
	return out
}

// publishDeltaLocked announces a change of this node's key set; n.mu is
// held, so changes go out in the order of seq.
func (n *Node) publishDeltaLocked(bound bool, key string) {
	n.seq++
	op := byte(0)
	if bound {
		op = 1
	}
	b := binary.AppendUvarint(appendEnvelope(nil, presChange, n.id), n.seq)
	b = append(b, op)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	if err := n.nc.Publish(n.prefix+"p", b); err != nil && n.nc.IsConnected() {
		n.report(fmt.Errorf("cluster: publish presence: %w", err))
	}
}

// heartbeat announces this node and its change count. Once Close has
// begun, the node has said goodbye (or is about to): a heartbeat would
// list it again on the other servers.
func (n *Node) heartbeat() {
	if !n.nc.IsConnected() {
		return
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.closed {
		return
	}
	b := binary.AppendUvarint(appendEnvelope(nil, presHeartbeat, n.id), n.seq)
	b = binary.AppendUvarint(b, uint64(len(n.cfg.name)))
	b = append(b, n.cfg.name...)
	b = binary.AppendUvarint(b, uint64(n.cfg.heartbeat/time.Microsecond))
	n.nc.Publish(n.prefix+"p", b)
}

// answerSnapshot answers another node's request for this node's key set.
func (n *Node) answerSnapshot(m *nats.Msg) {
	n.mu.RLock()
	b := binary.AppendUvarint(nil, n.seq)
	b = binary.AppendUvarint(b, uint64(len(n.cfg.name)))
	b = append(b, n.cfg.name...)
	b = binary.AppendUvarint(b, uint64(len(n.keys)))
	for _, e := range n.keys {
		b = binary.AppendUvarint(b, uint64(len(e.name)))
		b = append(b, e.name...)
	}
	n.mu.RUnlock()
	if err := m.Respond(b); err != nil {
		n.report(fmt.Errorf("cluster: answer presence snapshot (%d bytes): %w", len(b), err))
	}
}

// snapshot is a node's key set as it answered.
type snapshot struct {
	node uint64
	seq  uint64
	name string
	keys map[string]struct{}
	err  error
}

// presence runs the heartbeats and the table of the other nodes.
func (n *Node) presence(in chan *nats.Msg) {
	defer n.wg.Done()
	snaps := make(chan snapshot)
	beat := time.NewTicker(n.cfg.heartbeat)
	defer beat.Stop()
	check := time.NewTicker(n.cfg.heartbeat / 4)
	defer check.Stop()
	n.heartbeat()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-beat.C:
			n.heartbeat()
		case now := <-check.C:
			n.pmu.Lock()
			for id, p := range n.peers {
				if now.Sub(p.seen) > 2*p.every {
					delete(n.peers, id)
				}
			}
			n.pmu.Unlock()
		case m := <-in:
			if err := n.presencePacket(m.Data, snaps); err != nil {
				n.report(&PacketError{Subject: m.Subject, Err: err})
			}
		case s := <-snaps:
			n.pmu.Lock()
			if p := n.peers[s.node]; p != nil {
				p.syncing = false
				if s.err != nil {
					n.report(fmt.Errorf("cluster: presence of node %016x: %w", s.node, s.err))
				} else if !p.synced || s.seq >= p.seq {
					p.name, p.seq, p.keys, p.synced = s.name, s.seq, s.keys, true
				}
			}
			n.pmu.Unlock()
		}
	}
}

func (n *Node) presencePacket(d []byte, snaps chan snapshot) error {
	if len(d) > n.cfg.maxPacket {
		return fmt.Errorf("%w: %d bytes", ErrTooLarge, len(d))
	}
	if len(d) < headerLen {
		return fmt.Errorf("%w: %w", ErrMalformed, errShort)
	}
	id := binary.BigEndian.Uint64(d[1:headerLen])
	if id == n.id {
		return nil
	}
	r := reader{b: d[headerLen:]}
	n.pmu.Lock()
	defer n.pmu.Unlock()
	p := n.peers[id]
	switch d[0] {
	case presBye:
		delete(n.peers, id)
		return nil
	case presHeartbeat:
		seq, name := r.uvarint(), r.str()
		every := n.cfg.heartbeat
		if len(r.b) > 0 {
			every = time.Duration(min(r.uvarint(), maxInterval)) * time.Microsecond
		}
		if r.err != nil {
			return r.err
		}
		if p == nil {
			p = &peer{keys: map[string]struct{}{}}
			n.peers[id] = p
		}
		p.name, p.seen, p.every = name, time.Now(), max(every, minInterval)
		if !p.synced || p.seq != seq {
			p.synced = false
			n.resyncLocked(id, p, snaps)
		}
	case presChange:
		seq, op, key := r.uvarint(), r.byte(), r.str()
		if r.err != nil {
			return r.err
		}
		if p == nil {
			// Named by its next heartbeat or its snapshot; not listed
			// until then.
			p = &peer{keys: map[string]struct{}{}, every: n.cfg.heartbeat}
			n.peers[id] = p
		}
		p.seen = time.Now()
		switch {
		case p.synced && seq == p.seq+1:
			p.seq = seq
			if op == 1 {
				p.keys[key] = struct{}{}
			} else {
				delete(p.keys, key)
			}
		case p.synced && seq <= p.seq:
			// Already in a snapshot.
		default:
			p.synced = false
			n.resyncLocked(id, p, snaps)
		}
	default:
		return fmt.Errorf("%w: unknown presence kind %d", ErrMalformed, d[0])
	}
	return nil
}

// The heartbeat intervals a peer may announce are bounded: a peer's
// entry lasts two of them without news.
const (
	minInterval = 10 * time.Millisecond // as WithHeartbeat's
	maxInterval = uint64(time.Hour / time.Microsecond)
)

// resyncLocked asks node id for its key set, unless it was asked already.
func (n *Node) resyncLocked(id uint64, p *peer, snaps chan snapshot) {
	if p.syncing || n.ctx.Err() != nil {
		return
	}
	p.syncing = true
	n.wg.Go(func() {
		s := n.fetchSnapshot(id)
		select {
		case snaps <- s:
		case <-n.ctx.Done():
		}
	})
}

func (n *Node) fetchSnapshot(id uint64) snapshot {
	s := snapshot{node: id}
	ctx, cancel := context.WithTimeout(n.ctx, 2*n.cfg.heartbeat)
	defer cancel()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], id)
	m, err := n.nc.RequestWithContext(ctx, n.prefix+"s."+hex.EncodeToString(b[:]), nil)
	if err != nil {
		s.err = err
		return s
	}
	if len(m.Data) > n.cfg.maxPacket {
		s.err = fmt.Errorf("%w: %d bytes", ErrTooLarge, len(m.Data))
		return s
	}
	r := reader{b: m.Data}
	s.seq, s.name = r.uvarint(), r.str()
	count := r.uvarint()
	if count > uint64(len(m.Data)) {
		s.err = fmt.Errorf("%w: snapshot count %d", ErrMalformed, count)
		return s
	}
	s.keys = make(map[string]struct{}, count)
	for range count {
		s.keys[r.str()] = struct{}{}
	}
	s.err = r.err
	return s
}

// reader parses presence packets; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.err = fmt.Errorf("%w: bad varint", ErrMalformed)
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.err = fmt.Errorf("%w: %w", ErrMalformed, errShort)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) str() string {
	l := r.uvarint()
	if r.err != nil {
		return ""
	}
	if l > MaxKeyLen || l > uint64(len(r.b)) {
		r.err = fmt.Errorf("%w: bad string length %d", ErrMalformed, l)
		return ""
	}
	s := string(r.b[:l])
	r.b = r.b[l:]
	return s
}
