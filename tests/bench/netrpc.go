package bench

import (
	"context"
	"net"
	"net/rpc"
	"sync"
)

// NetRPC returns the contender that uses the standard library's net/rpc
// with its default gob codec. It has no one-way messages.
func NetRPC() Contender {
	return Contender{
		Name:  "net/rpc",
		Note:  "standard library net/rpc, gob codec",
		Serve: serveRPC,
		Dial:  dialRPC,
	}
}

// rpcEcho is the net/rpc service.
type rpcEcho struct{}

// Call answers req with an equal packet.
func (rpcEcho) Call(req *Packet, resp *Packet) error {
	*resp = *req
	return nil
}

type rpcServer struct {
	ln    net.Listener
	srv   *rpc.Server
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func serveRPC(ln net.Listener) (Server, error) {
	s := &rpcServer{ln: ln, srv: rpc.NewServer(), conns: make(map[net.Conn]struct{})}
	if err := s.srv.RegisterName("Echo", rpcEcho{}); err != nil {
		return nil, err
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			if s.conns == nil {
				s.mu.Unlock()
				conn.Close()
				return
			}
			s.conns[conn] = struct{}{}
			s.wg.Add(1)
			s.mu.Unlock()
			go func() {
				defer s.wg.Done()
				s.srv.ServeConn(conn)
			}()
		}
	}()
	return s, nil
}

func (s *rpcServer) Received() int64 { return 0 }

func (s *rpcServer) Close() error {
	s.ln.Close()
	s.mu.Lock()
	for conn := range s.conns {
		conn.Close()
	}
	s.conns = nil
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

type rpcClient struct {
	c *rpc.Client
}

func dialRPC(ctx context.Context, addr string) (Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &rpcClient{c: rpc.NewClient(conn)}, nil
}

func (c *rpcClient) Call(_ context.Context, size Size) error {
	var resp Packet
	want := &packets[size]
	if err := c.c.Call("Echo.Call", want, &resp); err != nil {
		return err
	}
	return check(&resp, want)
}

func (c *rpcClient) Send(context.Context, Size) error { return ErrUnsupported }

func (c *rpcClient) Close() error { return c.c.Close() }
