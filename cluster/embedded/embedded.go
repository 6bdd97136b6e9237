package embedded

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Server is a NATS server running in this process.
type Server struct {
	ns *server.Server
}

// Start starts a NATS server listening on addr, a host and port such as
// "127.0.0.1:4222"; port 0 picks a free one, and an empty addr means
// "127.0.0.1:0". It returns once the server accepts connections.
func Start(addr string) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return nil, fmt.Errorf("embedded: bad port %q", port)
	}
	if p == 0 {
		p = server.RANDOM_PORT
	}
	ns, err := server.NewServer(&server.Options{Host: host, Port: p, NoLog: true, NoSigs: true})
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, errors.New("embedded: NATS server not ready within 10s")
	}
	return &Server{ns: ns}, nil
}

// URL returns the address clients connect to, "nats://host:port".
func (s *Server) URL() string { return s.ns.ClientURL() }

// Connect returns a connection to the server that does not go through
// the network (nats.InProcessServer), with opts added.
func (s *Server) Connect(opts ...nats.Option) (*nats.Conn, error) {
	return nats.Connect(s.URL(), append([]nats.Option{nats.InProcessServer(s.ns)}, opts...)...)
}

// Close shuts the server down and waits until it has stopped. Its clients
// see the connection lost, and reconnect if another server of theirs is
// reachable.
func (s *Server) Close() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}
