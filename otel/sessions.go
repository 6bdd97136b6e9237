package nmotel

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/netmessage-go/netmessage/base"
)

var (
	serverEnd = attribute.NewSet(systemAttr, EndKey.String("server"))
	clientEnd = attribute.NewSet(systemAttr, EndKey.String("client"))
)

// ServerOptions returns the server hooks that count its sessions:
// base.OnSessionOpened and base.OnSessionClosed calling SessionOpened and
// SessionClosed. A server keeps one hook of each kind, the last one
// given: an application with hooks of its own calls SessionOpened and
// SessionClosed from them instead.
func (t *Telemetry) ServerOptions() []base.ServerOption {
	return []base.ServerOption{
		base.OnSessionOpened(t.SessionOpened),
		base.OnSessionClosed(t.SessionClosed),
	}
}

// ClientOptions returns the client hooks that count its connections and
// reconnect attempts: base.OnConnected, base.OnDisconnected and
// base.OnReconnecting calling Connected, Disconnected and Reconnecting. A
// client keeps one hook of each kind, the last one given: an application
// with hooks of its own calls these methods from them instead.
func (t *Telemetry) ClientOptions() []base.ClientOption {
	return []base.ClientOption{
		base.OnConnected(t.Connected),
		base.OnDisconnected(t.Disconnected),
		base.OnReconnecting(t.Reconnecting),
	}
}

// SessionOpened counts a server's session as open in
// netmessage.sessions.open (netmessage.end "server"). It is the
// base.OnSessionOpened hook of ServerOptions.
func (t *Telemetry) SessionOpened(*base.Session) {
	t.sessionsOpen.Add(context.Background(), 1, metric.WithAttributeSet(serverEnd))
}

// SessionClosed counts a server's session as closed with reason: it
// leaves netmessage.sessions.open and adds to netmessage.sessions.closed.
// It is the base.OnSessionClosed hook of ServerOptions.
func (t *Telemetry) SessionClosed(_ *base.Session, reason base.CloseReason) {
	t.closed("server", serverEnd, reason)
}

// Connected counts a client's connection as open in
// netmessage.sessions.open (netmessage.end "client"). It is the
// base.OnConnected hook of ClientOptions.
func (t *Telemetry) Connected(*base.Session) {
	t.sessionsOpen.Add(context.Background(), 1, metric.WithAttributeSet(clientEnd))
}

// Disconnected counts a client's connection as closed with reason, as
// SessionClosed does a server's session. It is the base.OnDisconnected
// hook of ClientOptions.
func (t *Telemetry) Disconnected(_ *base.Session, reason base.CloseReason) {
	t.closed("client", clientEnd, reason)
}

func (t *Telemetry) closed(end string, endSet attribute.Set, reason base.CloseReason) {
	ctx := context.Background()
	t.sessionsOpen.Add(ctx, -1, metric.WithAttributeSet(endSet))
	t.sessionsClosed.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(systemAttr,
		EndKey.String(end), CloseReasonKey.String(snake(reason.String(), false)))))
}

// Reconnecting counts a client's reconnect attempt in
// netmessage.client.reconnect.attempts. It is the base.OnReconnecting hook
// of ClientOptions.
func (t *Telemetry) Reconnecting(attempt int, delay time.Duration, err error) {
	t.reconnects.Add(context.Background(), 1, metric.WithAttributeSet(reconnectSet))
}

var reconnectSet = attribute.NewSet(systemAttr)
