// Package packets defines the packets of the observe example, shared by
// its server and client.
package packets
