package cluster

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
)

// Node joins a netmessage server to a cluster of servers through a NATS
// connection. It is safe for concurrent use.
//
// A Node owns three goroutines: the dispatcher, the only one that takes
// packets from NATS and queues them on this server's sessions without
// waiting; the presence loop, which sends heartbeats and keeps the table of
// the other servers' keys; and the event loop, which runs the OnError hook.
// Requests from other servers (at most WithMaxConcurrentRequests at a time)
// and each slow session's backlog (see docs/cluster.md, "Guarantees") run
// in goroutines of their own.
type Node struct {
	srv    *base.Server
	nc     *nats.Conn
	cfg    config
	id     uint64
	hexID  string
	prefix string // "netmessage.<cluster>."

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	in     chan *nats.Msg
	events chan error
	slots  chan struct{} // request slots

	mu      sync.RWMutex
	closed  bool
	keys    map[string]*entry // by subject token
	groups  map[string]*entry
	members map[*base.Session]*member
	seq     uint64 // of this node's key set, for presence
	subs    []*nats.Subscription

	pmu   sync.Mutex
	peers map[uint64]*peer

	blmu     sync.Mutex
	backlogs map[*base.Session]*backlog
}

// entry is a key or group with sessions of this server.
type entry struct {
	name      string
	sessions  []*base.Session // replaced, never changed in place
	sub, qsub *nats.Subscription
}

// member is what a session of this server is bound to.
type member struct {
	keys, groups map[string]struct{}
	stop         func() bool
}

// New joins srv, a server whose handler is a *netmessage.Mux (see
// netmessage.NewServer), to the cluster that nc reaches; the node encodes
// values with the Mux's serializer. The node does not own nc
// or srv: close the node before them. nc should reconnect by itself
// (nats.go's default); while it is not connected, sessions of this server
// are still served and what needs another server fails with
// ErrUnavailable.
func New(srv *base.Server, nc *nats.Conn, opts ...Option) (*Node, error) {
	if srv == nil || nc == nil {
		return nil, fmt.Errorf("%w: nil server or NATS connection", ErrBadOption)
	}
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	if cfg.err != nil {
		return nil, cfg.err
	}
	mux, ok := srv.Handler().(*netmessage.Mux)
	if !ok {
		return nil, fmt.Errorf("%w: the server's handler is not a *netmessage.Mux (see netmessage.NewServer)", ErrBadOption)
	}
	cfg.ser = mux.Serializer() // values travel as the server's sessions expect them
	if nc.IsClosed() {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, nats.ErrConnectionClosed)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	n := &Node{
		srv:     srv,
		nc:      nc,
		cfg:     cfg,
		id:      binary.BigEndian.Uint64(b[:]),
		hexID:   hex.EncodeToString(b[:]),
		prefix:  "netmessage." + cfg.cluster + ".",
		in:      make(chan *nats.Msg, cfg.queue),
		events:  make(chan error, 256),
		slots:   make(chan struct{}, cfg.maxRequests),
		keys:    make(map[string]*entry),
		groups:  make(map[string]*entry),
		members: make(map[*base.Session]*member),
		peers:   make(map[uint64]*peer),

		backlogs: make(map[*base.Session]*backlog),
	}
	if n.cfg.name == "" {
		n.cfg.name = n.hexID
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	pres := make(chan *nats.Msg, cfg.queue)
	var err error
	for _, s := range []struct {
		subj string
		ch   chan *nats.Msg
	}{{n.prefix + "all", n.in}, {n.prefix + "p", pres}} {
		var sub *nats.Subscription
		if sub, err = nc.ChanSubscribe(s.subj, s.ch); err != nil {
			break
		}
		n.subs = append(n.subs, sub)
	}
	if err == nil {
		var sub *nats.Subscription
		if sub, err = nc.Subscribe(n.prefix+"s."+n.hexID, n.answerSnapshot); err == nil {
			n.subs = append(n.subs, sub)
		}
	}
	if err != nil {
		for _, sub := range n.subs {
			sub.Unsubscribe()
		}
		n.cancel()
		return nil, fmt.Errorf("cluster: subscribe: %w", err)
	}
	n.wg.Add(3)
	go n.dispatch()
	go n.presence(pres)
	go n.runEvents()
	return n, nil
}

// Name returns the node's name in presence (see WithName).
func (n *Node) Name() string { return n.cfg.name }

// Close leaves the cluster: it drops every binding and membership of this
// server's sessions, tells the other servers (they remove it from
// presence at once), ends the answers to other servers' requests still
// running, and waits for the node's goroutines. It closes neither the
// server nor the NATS connection. Once closed, the node knows no other
// server: Nodes lists this one alone, and Lookup finds no key.
func (n *Node) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	var errs []error
	for _, m := range n.members {
		m.stop()
	}
	for _, tab := range []map[string]*entry{n.keys, n.groups} {
		for _, e := range tab {
			errs = append(errs, unsubscribe(e))
		}
	}
	for _, sub := range n.subs {
		errs = append(errs, sub.Unsubscribe())
	}
	n.members, n.keys, n.groups = nil, nil, nil
	n.mu.Unlock()
	if n.nc.IsConnected() {
		n.nc.Publish(n.prefix+"p", appendEnvelope(nil, presBye, n.id))
		n.nc.FlushTimeout(n.cfg.heartbeat)
	}
	n.cancel()
	n.wg.Wait()
	// Nothing expires the other servers any more: what is known of them
	// would go stale.
	n.pmu.Lock()
	clear(n.peers)
	n.pmu.Unlock()
	if err := errors.Join(errs...); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		return fmt.Errorf("cluster: unsubscribe: %w", err)
	}
	return nil
}

func unsubscribe(e *entry) error {
	var errs []error
	for _, sub := range []*nats.Subscription{e.sub, e.qsub} {
		if sub != nil {
			errs = append(errs, sub.Unsubscribe())
		}
	}
	return errors.Join(errs...)
}

// Bind binds session s of this server to keys (a user id, a device id),
// so that Send and Request to a key reach s from any server of the
// cluster. Bind after the session has authenticated. A session can have
// many keys and a key many sessions; the session's close drops its
// bindings. This server reaches s through the key at once, the others as
// soon as NATS has the node's subscription (a round trip to NATS and its
// routes; Lookup on another server shows the key from then on). If the
// subscription fails, the binding still holds on this server and the
// error says why.
func (n *Node) Bind(s *base.Session, keys ...string) error {
	return n.add(s, keys, true)
}

// Unbind removes the bindings of s to keys.
func (n *Node) Unbind(s *base.Session, keys ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if m := n.members[s]; m != nil {
		for _, k := range keys {
			n.removeLocked(s, m, k, true)
		}
	}
}

// Join adds session s of this server to groups, so that SendGroup to one
// of them reaches s from any server. The session's close makes it leave.
func (n *Node) Join(s *base.Session, groups ...string) error {
	return n.add(s, groups, false)
}

// Leave removes s from groups.
func (n *Node) Leave(s *base.Session, groups ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if m := n.members[s]; m != nil {
		for _, g := range groups {
			n.removeLocked(s, m, g, false)
		}
	}
}

func (n *Node) add(s *base.Session, names []string, isKey bool) error {
	what := "group"
	if isKey {
		what = "key"
	}
	for _, name := range names {
		if err := checkName(what, name); err != nil {
			return err
		}
	}
	b := s
	if b == nil {
		return fmt.Errorf("%w: nil session", ErrBadOption)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return ErrClosed
	}
	if b.Context().Err() != nil {
		return fmt.Errorf("cluster: bind session %d: %w", b.ID(), base.ErrClosed)
	}
	m := n.members[b]
	if m == nil {
		m = &member{keys: make(map[string]struct{}), groups: make(map[string]struct{})}
		m.stop = context.AfterFunc(b.Context(), func() { n.forget(b) })
		n.members[b] = m
	}
	set, tab, kind := m.groups, n.groups, "g."
	if isKey {
		set, tab, kind = m.keys, n.keys, "k."
	}
	var errs []error
	for _, name := range names {
		if _, ok := set[name]; ok {
			continue
		}
		set[name] = struct{}{}
		tok := token(name)
		e := tab[tok]
		if e == nil {
			e = &entry{name: name}
			tab[tok] = e
			var err error
			if e.sub, err = n.nc.ChanSubscribe(n.prefix+kind+tok, n.in); err != nil {
				errs = append(errs, err)
			}
			if isKey {
				if e.qsub, err = n.nc.ChanQueueSubscribe(n.prefix+"q."+tok, "q", n.in); err != nil {
					errs = append(errs, err)
				}
				n.publishDeltaLocked(true, name)
			}
		}
		e.sessions = append(slices.Clip(e.sessions), b)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cluster: subscribe: %w", err)
	}
	return nil
}

// forget drops everything b is bound to: b is closing.
func (n *Node) forget(b *base.Session) {
	n.mu.Lock()
	defer n.mu.Unlock()
	m := n.members[b]
	if m == nil {
		return
	}
	for k := range m.keys {
		n.removeLocked(b, m, k, true)
	}
	for g := range m.groups {
		n.removeLocked(b, m, g, false)
	}
	delete(n.members, b)
}

func (n *Node) removeLocked(b *base.Session, m *member, name string, isKey bool) {
	set, tab := m.groups, n.groups
	if isKey {
		set, tab = m.keys, n.keys
	}
	if _, ok := set[name]; !ok {
		return
	}
	delete(set, name)
	tok := token(name)
	e := tab[tok]
	if i := slices.Index(e.sessions, b); i >= 0 {
		e.sessions = slices.Delete(slices.Clone(e.sessions), i, i+1)
	}
	if len(e.sessions) > 0 {
		return
	}
	delete(tab, tok)
	if err := unsubscribe(e); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		n.report(fmt.Errorf("cluster: unsubscribe %q: %w", name, err))
	}
	if isKey {
		n.publishDeltaLocked(false, name)
	}
}

// local returns the sessions of this server bound to the key or group of
// the subject token tok.
func (n *Node) local(tok string, isKey bool) []*base.Session {
	n.mu.RLock()
	defer n.mu.RUnlock()
	tab := n.groups
	if isKey {
		tab = n.keys
	}
	if e := tab[tok]; e != nil {
		return e.sessions
	}
	return nil
}

// report raises an error event.
func (n *Node) report(err error) {
	if n.cfg.onError == nil {
		return
	}
	select {
	case n.events <- err:
	default:
	}
}

func (n *Node) runEvents() {
	defer n.wg.Done()
	for {
		select {
		case <-n.ctx.Done():
			return
		case err := <-n.events:
			func() {
				defer func() { recover() }()
				n.cfg.onError(err)
			}()
		}
	}
}
