package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/netmessage-go/netmessage/base"
)

// printer writes lines from the hooks of both ends, one at a time.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}

// events holds one end's hooks: they print each event and answer requests
// by uppercasing them.
type events struct {
	out      *printer
	name     string             // "server" or "client"
	greet    bool               // the server greets each session with a message
	opened   chan *base.Session // gets each session opened (capacity permitting)
	received chan struct{}      // gets a value per message received (capacity permitting)

	mu       sync.Mutex
	sessions []*base.Session // opened, not yet seen done
	nerr     int             // error events
	firstErr error
}

func newEvents(out *printer, name string) *events {
	return &events{out: out, name: name, opened: make(chan *base.Session, 1), received: make(chan struct{}, 1)}
}

func (e *events) serverOptions() []base.ServerOption {
	return []base.ServerOption{base.OnSessionOpened(e.onOpened), base.OnSessionClosed(e.onClosed),
		base.OnMessage(e.onMessage), base.OnRequest(e.onRequest), base.OnError(e.onError)}
}

func (e *events) clientOptions() []base.ClientOption {
	return []base.ClientOption{base.OnConnected(e.onOpened), base.OnDisconnected(e.onClosed),
		base.OnMessage(e.onMessage), base.OnRequest(e.onRequest), base.OnError(e.onError)}
}

// peer names the other end of s.
func (e *events) peer(s *base.Session) string {
	if e.name == "server" {
		return fmt.Sprintf("session %d", s.ID())
	}
	return "server"
}

func (e *events) onOpened(s *base.Session) {
	e.mu.Lock()
	e.sessions = slices.DeleteFunc(e.sessions, isDone)
	e.sessions = append(e.sessions, s)
	e.mu.Unlock()
	if e.name == "server" {
		e.out.printf("server: session %d opened from %s", s.ID(), s.RemoteAddr())
	} else {
		e.out.printf("client: connected to %s", s.RemoteAddr())
	}
	if e.greet {
		// SendMessage only queues, so it is fine in a hook.
		if err := e.tell(context.Background(), s, fmt.Sprintf("welcome, you are session %d", s.ID())); err != nil {
			e.out.printf("server: greeting session %d: %v", s.ID(), err)
		}
	}
	select {
	case e.opened <- s:
	default:
	}
}

// onClosed prints the reason in words (with %s alone, a CloseReason, being
// an error, would print as its Error text).
func (e *events) onClosed(s *base.Session, reason base.CloseReason) {
	if e.name == "server" {
		e.out.printf("server: session %d closed: %s", s.ID(), reason.String())
	} else {
		e.out.printf("client: disconnected: %s", reason.String())
	}
}

func (e *events) onMessage(_ context.Context, s *base.Session, payload []byte) {
	e.out.printf("%s: message from %s: %q", e.name, e.peer(s), payload)
	notify(e.received)
}

func (e *events) onRequest(_ context.Context, s *base.Session, payload []byte) []byte {
	resp := strings.ToUpper(string(payload))
	e.out.printf("%s: request from %s: %q, answering %q", e.name, e.peer(s), payload, resp)
	return []byte(resp)
}

// onError prints an error event and counts it. s is nil for a server's
// accept error.
func (e *events) onError(s *base.Session, err error) {
	e.mu.Lock()
	if e.nerr++; e.nerr == 1 {
		e.firstErr = err
	}
	e.mu.Unlock()
	e.out.printf("%s: error: %v", e.name, err)
}

// err reports the error events so far, or nil.
func (e *events) err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.nerr == 0 {
		return nil
	}
	return fmt.Errorf("%s: %d error events, the first: %w", e.name, e.nerr, e.firstErr)
}

// wait waits until every session opened has closed and its hooks have run.
func (e *events) wait() {
	e.mu.Lock()
	list := slices.Clone(e.sessions)
	e.mu.Unlock()
	for _, s := range list {
		<-s.Done()
	}
}

// tell sends a message to the peer.
func (e *events) tell(ctx context.Context, s *base.Session, text string) error {
	e.out.printf("%s: sending message %q to %s", e.name, text, e.peer(s))
	return s.SendMessage(ctx, []byte(text))
}

// ask sends a request to the peer and prints the response.
func (e *events) ask(ctx context.Context, s *base.Session, text string) error {
	e.out.printf("%s: sending request %q to %s", e.name, text, e.peer(s))
	resp, err := s.Request(ctx, []byte(text))
	if err != nil {
		return err
	}
	e.out.printf("%s: response from %s: %q", e.name, e.peer(s), resp)
	return nil
}

func isDone(s *base.Session) bool {
	select {
	case <-s.Done():
		return true
	default:
		return false
	}
}

// notify sends on ch unless it is full.
func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
