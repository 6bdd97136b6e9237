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
//	netmessage.HandleRequest(srv, func(ctx context.Context, s *netmessage.Session, r WeatherRequest) (WeatherResponse, error) {
//		return WeatherResponse{Forecast: "sunny"}, nil
//	})
//	resp, err := netmessage.Request(ctx, client, WeatherRequest{City: "Bonn"})
//
// Both ends can send messages and requests: a *Server's handlers receive the
// *Session, a *Client's handlers the *Client, and both are a Peer to send to.
// Each packet carries its type's id (see TypeIDer and WithTypeID) and the
// serializer's encoding of the value (msgpack by default; see
// WithSerializer). The transport underneath (heartbeats, graceful
// disconnect, limits, TLS) is package base; WithTransport passes its
// settings, such as base.WithTLS. A Client with WithReconnect reconnects by
// itself when it loses its server, keeping its handlers; Session.TLS and
// Client.TLS tell who is at the other end of a TLS connection.
//
// Interceptors (WithInbound, WithOutbound) wrap every call on either end,
// for authentication, metrics or retries; a handler or interceptor fails a
// call with a code of its choice using Errorf; WithLogger logs sessions,
// errors and calls with log/slog.
package netmessage
