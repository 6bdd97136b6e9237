// Package strproto is a text protocol for package base, after the
// SimpleString example of .NET NetMessage: every packet is a UTF-8 string
// ended by the byte 0x04 (EOT, the Terminator).
//
// The packets on the wire:
//
//	message    'M' text EOT
//	request    'Q' id ':' text EOT
//	response   'R' id ':' text EOT
//	heartbeat  EOT
//
// id is the request id in decimal, from 0 to 4294967295, without sign or
// leading zeros. text is valid UTF-8 and does not contain EOT; since no
// byte of a multi-byte UTF-8 sequence is 0x04, the terminator is never
// ambiguous. There is no preface.
//
// Pass New to base.NewServer and base.NewClient.
package strproto
