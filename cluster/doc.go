// Package cluster joins netmessage servers into a cluster through NATS,
// so that sending to a user, to a group or to everyone reaches sessions
// on every server, not only the server that runs the code.
//
// Each server makes a Node from its server (a *base.Server that
// netmessage.NewServer built around a Mux) and a *nats.Conn:
//
//	node, err := cluster.New(srv, nc, cluster.WithName("eu-1"))
//	defer node.Close()
//
// After a session has authenticated, bind it to keys (a user id, a
// device id) and join it to groups; its close drops them:
//
//	node.Bind(s, "user:alice")
//	node.Join(s, "room:lobby")
//
// Then, from any server:
//
//	node.Send(ctx, "user:alice", Notice{Text: "hi"})       // every session bound to the key
//	node.SendGroup(ctx, "room:lobby", Chat{Text: "hello"}) // every session in the group
//	node.Broadcast(ctx, Notice{Text: "maintenance at 6"})  // every session of every server
//	resp, err := cluster.Request(ctx, node, "user:alice", WhereAreYou{}) // typed, from one session
//
// Values are encoded once, with the server's serializer, and reach the
// sessions of other servers as the same bytes. Nodes see which keys are bound where (Nodes, Lookup); a
// server that stops without closing its node leaves once nothing has been
// heard from it for two of its heartbeat intervals (at most 3¼ intervals
// after it stopped, when all nodes have the same interval).
//
// Delivery is at most once, in the order sent for one sender node and
// one key, group or broadcast. While NATS is unreachable, sessions of
// this server are still served and what needs another server fails at
// once with ErrUnavailable; NATS coming back restores the rest.
//
// The package cluster/embedded starts an in-process NATS server for a
// single binary or a demo. docs/cluster.md has the message path, the
// guarantees, the limits and a production set-up.
package cluster
