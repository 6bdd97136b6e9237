// Command chat runs a cluster of three netmessage servers on one machine:
// an embedded NATS server, three servers on loopback joined through it,
// and three users, each connected to a different server. They chat in a
// group, send to a user on another server and ask another user a typed
// question; then one server is killed and the others carry on.
//
//	go run ./examples/chat   (from the cluster module)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/cluster"
	"github.com/netmessage-go/netmessage/cluster/embedded"
	"github.com/netmessage-go/netmessage/netmessage"
)

// What clients send their server.
type (
	// Login binds the session to a user and joins it to rooms.
	Login struct {
		netmessage.Returns[Welcome]
		User  string
		Rooms []string
	}
	// Welcome answers a Login with the name of the server it reached.
	Welcome struct{ Server string }

	// Say posts to a room.
	Say struct{ Room, Text string }
	// Tell sends to one user, wherever connected.
	Tell struct{ To, Text string }
	// Ask asks a user a question and waits for the answer.
	Ask struct {
		netmessage.Returns[Answer]
		To       string
		Question string
	}
)

// What servers send clients.
type (
	// Said is a room's message or a message to the user.
	Said struct{ From, Room, Text string }
	// Question is asked of the user; the client answers with an Answer.
	Question struct {
		netmessage.Returns[Answer]
		From, Text string
	}
	// Answer answers an Ask or a Question.
	Answer struct{ Text string }
)

// chatServer is one netmessage server joined to the cluster.
type chatServer struct {
	name   string
	srv    *base.Server
	node   *cluster.Node
	nc     *nats.Conn
	addr   string
	served chan error
}

func startServer(ns *embedded.Server, name string) (*chatServer, error) {
	nc, err := ns.Connect(nats.Name(name))
	if err != nil {
		return nil, err
	}
	cs := &chatServer{name: name, nc: nc, served: make(chan error, 1)}
	var users sync.Map // *base.Session -> user name, set by Login
	mux, err := netmessage.NewMux()
	if err != nil {
		return nil, err
	}
	cs.srv = netmessage.NewServer(mux, base.OnSessionClosed(func(s *base.Session, _ base.CloseReason) {
		users.Delete(s)
	}))
	if cs.node, err = cluster.New(cs.srv, nc, cluster.WithName(name), cluster.WithHeartbeat(200*time.Millisecond)); err != nil {
		return nil, err
	}
	netmessage.HandleRequest(mux, func(ctx context.Context, s *base.Session, l Login) (Welcome, error) {
		// A real server authenticates here, before binding.
		users.Store(s, l.User)
		if err := cs.node.Bind(s, l.User); err != nil {
			return Welcome{}, err
		}
		return Welcome{Server: name}, cs.node.Join(s, l.Rooms...)
	})
	netmessage.HandleMessage(mux, func(ctx context.Context, s *base.Session, m Say) {
		cs.node.SendGroup(ctx, m.Room, Said{From: nameOf(&users, s), Room: m.Room, Text: m.Text})
	})
	netmessage.HandleMessage(mux, func(ctx context.Context, s *base.Session, m Tell) {
		cs.node.Send(ctx, m.To, Said{From: nameOf(&users, s), Text: m.Text})
	})
	netmessage.HandleRequest(mux, func(ctx context.Context, s *base.Session, a Ask) (Answer, error) {
		return cluster.Request(ctx, cs.node, a.To, Question{From: nameOf(&users, s), Text: a.Question})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	cs.addr = ln.Addr().String()
	go func() { cs.served <- cs.srv.Serve(ln) }()
	return cs, nil
}

// nameOf returns the user s logged in as.
func nameOf(users *sync.Map, s *base.Session) string {
	name, _ := users.Load(s)
	n, _ := name.(string)
	return n
}

// kill stops the server as a crash would: no goodbye to the cluster.
func (cs *chatServer) kill() {
	cs.nc.Close()
	cs.close()
}

func (cs *chatServer) close() {
	cs.node.Close()
	cs.srv.Close()
	<-cs.served
	cs.nc.Close()
}

// user is a client connected to one server.
type user struct {
	name string
	c    *base.Client
	said chan Said
}

func connect(ctx context.Context, cs *chatServer, name string, answer string) (*user, error) {
	mux, err := netmessage.NewMux()
	if err != nil {
		return nil, err
	}
	c := netmessage.NewClient(mux)
	u := &user{name: name, c: c, said: make(chan Said, 16)}
	netmessage.HandleMessage(mux, func(ctx context.Context, _ *base.Session, m Said) { u.said <- m })
	netmessage.HandleRequest(mux, func(ctx context.Context, _ *base.Session, q Question) (Answer, error) {
		return Answer{Text: answer}, nil
	})
	if err := c.Connect(ctx, cs.addr); err != nil {
		return nil, err
	}
	if _, err := netmessage.Request(ctx, c, Login{User: name, Rooms: []string{"lobby"}}); err != nil {
		c.Close()
		return nil, err
	}
	return u, nil
}

// hear waits for the user's next message and prints it.
func (u *user) hear(ctx context.Context, w io.Writer) error {
	select {
	case m := <-u.said:
		where := "privately"
		if m.Room != "" {
			where = "in " + m.Room
		}
		fmt.Fprintf(w, "%s hears %s %s: %q\n", u.name, m.From, where, m.Text)
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s heard nothing: %w", u.name, ctx.Err())
	}
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(ctx context.Context, what string, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

func run(ctx context.Context, w io.Writer) (err error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	ns, err := embedded.Start("")
	if err != nil {
		return err
	}
	defer ns.Close()

	var servers []*chatServer
	defer func() {
		for _, cs := range servers {
			cs.close()
		}
	}()
	for _, name := range []string{"east", "west", "north"} {
		cs, err := startServer(ns, name)
		if err != nil {
			return err
		}
		servers = append(servers, cs)
	}
	east, west, north := servers[0], servers[1], servers[2]
	fmt.Fprintln(w, "NATS embedded; servers east, west and north joined")

	var users []*user
	defer func() {
		for _, u := range users {
			u.c.Close()
		}
	}()
	for _, p := range []struct {
		cs           *chatServer
		name, answer string
	}{{east, "alice", "tea"}, {west, "bob", "half past four"}, {north, "carol", "yes"}} {
		u, err := connect(ctx, p.cs, p.name, p.answer)
		if err != nil {
			return err
		}
		users = append(users, u)
		fmt.Fprintf(w, "%s connected to %s\n", p.name, p.cs.name)
	}
	alice, bob, carol := users[0], users[1], users[2]
	if err := waitFor(ctx, "presence", func() bool {
		for _, cs := range servers {
			if len(cs.node.Lookup("alice"))+len(cs.node.Lookup("bob"))+len(cs.node.Lookup("carol")) != 3 {
				return false
			}
		}
		return true
	}); err != nil {
		return err
	}
	for _, n := range east.node.Nodes() {
		fmt.Fprintf(w, "presence: %s has %v\n", n.Name, n.Keys)
	}

	netmessage.Send(ctx, alice.c, Say{Room: "lobby", Text: "hello, lobby"})
	for _, u := range users {
		if err := u.hear(ctx, w); err != nil {
			return err
		}
	}
	netmessage.Send(ctx, alice.c, Tell{To: "bob", Text: "are you there?"})
	if err := bob.hear(ctx, w); err != nil {
		return err
	}
	a, err := netmessage.Request(ctx, carol.c, Ask{To: "bob", Question: "what time is it?"})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "carol asks bob the time: %q\n", a.Text)
	if _, err := netmessage.Request(ctx, carol.c, Ask{To: "dave", Question: "hello?"}); err != nil {
		fmt.Fprintf(w, "carol asks dave: %v\n", err)
	}

	north.kill()
	servers = servers[:2]
	start := time.Now()
	if err := waitFor(ctx, "north to leave", func() bool {
		return len(east.node.Nodes()) == 2 && len(west.node.Nodes()) == 2
	}); err != nil {
		return err
	}
	fmt.Fprintf(w, "north killed: gone from presence after %v (heartbeat 200ms)\n", time.Since(start).Round(10*time.Millisecond))
	for _, n := range west.node.Nodes() {
		fmt.Fprintf(w, "presence: %s has %v\n", n.Name, n.Keys)
	}
	netmessage.Send(ctx, bob.c, Say{Room: "lobby", Text: "north is gone, we carry on"})
	for _, u := range []*user{alice, bob} {
		if err := u.hear(ctx, w); err != nil {
			return err
		}
	}
	_, err = netmessage.Request(ctx, alice.c, Ask{To: "carol", Question: "still there?"})
	var re *netmessage.RemoteError
	if !errors.As(err, &re) {
		return fmt.Errorf("asking carol after north died: %v", err)
	}
	fmt.Fprintf(w, "alice asks carol: %s\n", re.Message)
	users = slices.DeleteFunc(users, func(u *user) bool { return u == carol })
	carol.c.Close()
	return nil
}

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}
