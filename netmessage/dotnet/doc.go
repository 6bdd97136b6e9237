// Package dotnet lets Go NetMessage endpoints talk to endpoints built on
// the original .NET NetMessage, with no change on the .NET side: a Go
// client can call a .NET server and a Go server can serve .NET clients.
//
// One option sets it all up:
//
//	opt := dotnet.Compat(dotnet.Namespace("Interop", WeatherRequest{}, WeatherResponse{}, ChatMessage{}))
//	mux, err := netmessage.NewMux(opt)
//	client := netmessage.NewClient(mux) // or netmessage.NewServer(mux)
//
// Compat selects the compat Protocol (New) and the .NET XML serializer
// (package serializers/dotnetxml); Namespace gives each Go type the type
// id .NET uses, the class's FullName ("Interop.WeatherRequest"); Nested
// does the same for nested classes ("Interop.Outer+Inner"). A generic
// class's FullName names assemblies and is given by hand with
// netmessage.WithTypeIDOf (see docs/dotnet-interop.md).
//
// # Wire format
//
// The original's TypedProtocol: UTF-8 text, one packet per line ended by
// 0x04 instead of a newline.
//
//	message    TypeId::Payload\x04
//	request    >TypeId:Id:Payload\x04
//	response   <TypeId:Id:Payload\x04   (the response's type; the request's id)
//	heartbeat  \x04
//
// Ids are decimal ints counted from 0 by each end; the graceful close is
// a TCP half-close, no packet. The Protocol translates between this text
// and the typed layer's payload layout, so it works only under package
// netmessage (through Compat or netmessage.WithProtocol(dotnet.New)), not
// with raw payloads on package base.
//
// # Where the .NET protocol falls short
//
// It has no escaping: a payload containing 0x04 would end its packet
// early. Append refuses it with ErrTerminator (the dotnetxml serializer
// never produces one; XML cannot hold it).
//
// It has no error responses. When a Go handler fails, panics, or there
// is no handler for a request, Append refuses the error response with
// ErrErrorResponse, which the Go end raises as an error event (with the
// handler's error text); the .NET caller gets nothing and times out, as
// it would with a .NET server. A .NET server does not answer a request it
// has no handler for either: the Go caller gets base.ErrRequestTimeout.
//
// A malformed packet (no separators, a bad id, invalid UTF-8) makes
// Decode fail with ErrMalformed and the bad packet's length: package base
// skips it, raises the error as an event and goes on with the packets
// after it. The original raised an error event and silently dropped the
// rest of the read, valid requests included. See docs/dotnet-interop.md.
package dotnet
