// Package embedded runs a NATS server inside the process, for a single
// binary, a demo or a test: a cluster of netmessage servers in one
// process, or one machine, needs nothing installed.
//
// It is a development default. In production, run a NATS cluster of
// three servers and connect each netmessage server to it with nats.go
// (see docs/cluster.md).
package embedded
