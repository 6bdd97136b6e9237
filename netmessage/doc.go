// Package netmessage is the typed layer of NetMessage for Go: RPC and
// messaging with plain Go structs, checked by the compiler.
//
// A request type names its response type by embedding Returns:
//
//	type WeatherRequest struct {
//		netmessage.Returns[WeatherResponse]
//		City string
//	}
//
// A handler registered for WeatherRequest must answer with a
// WeatherResponse, or the program does not compile, and the caller gets a
// WeatherResponse back without a type assertion:
//
//	mux, err := netmessage.NewMux()
//	netmessage.HandleRequest(mux, func(ctx context.Context, s *base.Session, r WeatherRequest) (WeatherResponse, error) {
//		return WeatherResponse{Forecast: "sunny"}, nil
//	})
//	srv := netmessage.NewServer(mux) // a *base.Server
//	...
//	resp, err := netmessage.Request(ctx, client, WeatherRequest{City: "Bonn"})
//
// The typed layer is one type, Mux: a base.Handler that the transport,
// package base, calls with each packet a session receives, as an
// http.Server calls its ServeMux. The servers, clients and sessions are
// base's own (NewServer and NewClient only build them around a Mux, with
// its protocol and its serializer's decode bound), so their hooks and
// settings (OnSessionOpened, OnError, WithReconnect, WithTLS and so on)
// are base options. Both ends can send messages and requests: handlers
// receive the *base.Session a packet came on, and Request and Send take a
// *base.Session or a *base.Client (see Peer), finding the Mux through the
// session's handler; Broadcast sends to every session of a server.
//
// Each packet carries its type's id (see TypeIDer and WithTypeID) and the
// serializer's encoding of the value (msgpack by default; see
// WithSerializer). Interceptors (WithInbound, WithOutbound) wrap every
// call on either end, for authentication, metrics or retries; a handler or
// interceptor fails a call with a code of its choice using Errorf; the
// typed layer's errors (a payload it cannot decode, a handler's panic) are
// the session's error events (base.OnError); WithLogger logs calls, and
// the sessions and errors of the ends built with NewServer and NewClient,
// with log/slog.
package netmessage
