// Package packets holds the packet types the typesafe example's server and
// client share. Each request names its response type by embedding
// netmessage.Returns, so the compiler checks every handler and call.
package packets
