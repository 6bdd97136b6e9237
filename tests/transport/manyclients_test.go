package transport

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

const manyClients = 50

// connectMany connects n clients to s.
func connectMany(t *testing.T, s *server, n int, opts ...base.ClientOption) []*client {
	t.Helper()
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = s.connect(t, opts...)
	}
	return clients
}

// load keeps every client busy with requests both ways until stopped or
// until each has done maxRounds rounds.
type load struct {
	wg     sync.WaitGroup
	stop   chan struct{}
	rounds atomic.Int64
	mu     sync.Mutex
	errs   []error
}

func startLoad(t *testing.T, clients []*client, maxRounds int) *load {
	l := &load{stop: make(chan struct{})}
	for k, c := range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			ctx := testutil.Ctx(t)
			for i := range maxRounds {
				select {
				case <-l.stop:
					return
				default:
				}
				p := fmt.Sprintf("client %d round %d", k, i)
				err := request(ctx, c.c, "echo:", p)
				if err == nil {
					err = request(ctx, c.peer, "pong:", p)
				}
				if err != nil {
					l.mu.Lock()
					l.errs = append(l.errs, fmt.Errorf("client %d round %d: %w", k, i, err))
					l.mu.Unlock()
					return
				}
				l.rounds.Add(1)
			}
		}()
	}
	return l
}

// finish stops the load, waits for it and fails the test on any error.
func (l *load) finish(t *testing.T) int64 {
	t.Helper()
	close(l.stop)
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	testutil.Closed(t, done, "the load to stop")
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, err := range l.errs {
		t.Error(err)
	}
	return l.rounds.Load()
}

// TestManyClients connects 50 clients to one server and has all of them
// exchange requests both ways at once, 20 rounds each, then messages both
// ways; then all disconnect gracefully at once.
func TestManyClients(t *testing.T) {
	const rounds = 20
	s := startServer(t, testutil.Listen(t))
	clients := connectMany(t, s, manyClients)
	if n := len(s.srv.Sessions()); n != manyClients {
		t.Fatalf("server has %d sessions, want %d", n, manyClients)
	}

	l := startLoad(t, clients, rounds)
	l.wg.Wait()
	if got := l.finish(t); got != manyClients*rounds {
		t.Fatalf("%d rounds done, want %d", got, manyClients*rounds)
	}

	// Messages to every client, each told apart by its session id.
	for _, c := range clients {
		testutil.Must(t, c.peer.SendMessage(testutil.Ctx(t), fmt.Appendf(nil, "to %d", c.peer.ID())))
	}
	for _, c := range clients {
		if got, want := testutil.Recv(t, c.msgs, "message"), fmt.Sprintf("to %d", c.peer.ID()); got != want {
			t.Errorf("client of session %d got %q, want %q", c.peer.ID(), got, want)
		}
	}

	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.c.Disconnect(testutil.Ctx(t)); err != nil {
				t.Errorf("Disconnect: %v", err)
			}
		}()
	}
	wg.Wait()
	for range clients {
		if ev := testutil.Recv(t, s.closed, "session closed"); ev.reason != base.ReasonGraceful {
			t.Errorf("session %d closed with %v, want graceful", ev.s.ID(), ev.reason)
		}
	}
	for _, c := range clients {
		if r := testutil.Recv(t, c.closed, "client closed"); r != base.ReasonGraceful {
			t.Errorf("client closed with %v, want graceful", r)
		}
	}
	select {
	case ev := <-s.errs:
		t.Errorf("server error event: %v", ev.err)
	default:
	}
}
