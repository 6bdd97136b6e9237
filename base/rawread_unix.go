//go:build unix

package base

import (
	"io"
	"net"
	"os"
	"syscall"
)

// rawRead reads through a connection's syscall.RawConn: the read system
// call is tried with a buffer, and when there is nothing to read the
// buffer goes back to the pool (unless it holds part of a packet) while
// the runtime's poller waits for input. That is what conn.Read does, less
// the buffer held while waiting, which would be most of an idle session's
// memory. It serves the standard library's TCP and Unix connections;
// other connections, *tls.Conn among them, are read with conn.Read.
type rawRead struct {
	rc  syscall.RawConn
	err error
	f   func(fd uintptr) bool // made once, so a read allocates nothing
}

// newRawRead returns a rawRead filling r from conn, or nil when conn is
// not one it serves.
func newRawRead(conn net.Conn, r *reader) *rawRead {
	var sc syscall.Conn
	switch c := conn.(type) {
	case *net.TCPConn:
		sc = c
	case *net.UnixConn:
		sc = c
	default:
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	rr := &rawRead{rc: rc}
	// RawConn.Read calls f, and while f returns false waits until the
	// connection is readable (or its read deadline passes, or it closes)
	// and calls f again.
	rr.f = func(fd uintptr) bool {
		r.room()
		for {
			n, err := syscall.Read(int(fd), r.buf[len(r.buf):cap(r.buf)])
			switch {
			case err == syscall.EINTR:
				continue
			case err == syscall.EAGAIN:
				r.release()
				return false
			case err != nil:
				rr.err = &net.OpError{Op: "read", Net: conn.LocalAddr().Network(),
					Source: conn.LocalAddr(), Addr: conn.RemoteAddr(), Err: os.NewSyscallError("read", err)}
			case n == 0:
				rr.err = io.EOF
			default:
				r.filled(n)
			}
			return true
		}
	}
	return rr
}

// read reads once, appending to the reader's buffer.
func (rr *rawRead) read() error {
	rr.err = nil
	if err := rr.rc.Read(rr.f); err != nil {
		return err
	}
	return rr.err
}
