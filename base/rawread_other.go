//go:build !unix

package base

import "net"

// rawRead is not used on this system: connections are read with
// conn.Read, which holds the read buffer while it waits.
type rawRead struct{}

func newRawRead(net.Conn, *reader) *rawRead { return nil }

func (*rawRead) read() error { return nil }
