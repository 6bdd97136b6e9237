package base

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
)

// Metadata is call metadata: string pairs that travel beside a request's or
// a message's payload, such as an auth token, a trace context or a tenant
// id. Keys are ASCII letters, digits and "-_.", compared without regard to
// case (they are kept in lower case); keys that begin with "nm-" are
// reserved for the SDK. Values are any strings.
//
// Metadata rides on protocols that carry call information (see
// CallInfoProtocol): the native protocol does, the .NET compat profile does
// not, and a send with metadata over such a protocol fails with
// ErrNoCallInfo.
type Metadata map[string]string

// ReservedPrefix begins the metadata keys the SDK sets itself; a send with
// such a key set by the application fails.
const ReservedPrefix = "nm-"

// DefaultMaxMetadataBytes is the default of WithMaxMetadataBytes.
const DefaultMaxMetadataBytes = 8 << 10

var (
	// ErrNoCallInfo is returned for a send with metadata over a protocol
	// that cannot carry it (one that is not a CallInfoProtocol).
	ErrNoCallInfo = errors.New("netmessage: the protocol cannot carry call metadata")

	// ErrMetadata is matched by errors about metadata: a key that is not
	// valid or is reserved, or metadata over the size limit (refused when
	// sent, and when received: then an error event, and the packet is
	// dropped).
	ErrMetadata = errors.New("netmessage: bad metadata")
)

type outgoingKey struct{}
type incomingKey struct{}

// AppendMetadata returns a copy of ctx whose outgoing metadata has the
// key/value pairs kv added (replacing values of the same keys): requests
// and messages sent with the returned context carry it. kv holds keys and
// values in turn; an odd count panics, as it is a programming error. Keys
// are checked when the metadata is sent.
func AppendMetadata(ctx context.Context, kv ...string) context.Context {
	if len(kv)%2 == 1 {
		panic(fmt.Sprintf("base.AppendMetadata: odd number of arguments (%d): keys and values must pair up", len(kv)))
	}
	old, _ := ctx.Value(outgoingKey{}).(Metadata)
	md := make(Metadata, len(old)+len(kv)/2)
	maps.Copy(md, old)
	for i := 0; i < len(kv); i += 2 {
		md[strings.ToLower(kv[i])] = kv[i+1]
	}
	return context.WithValue(ctx, outgoingKey{}, md)
}

// OutgoingMetadata returns the metadata that requests and messages sent
// with ctx carry, or nil. It must not be modified.
func OutgoingMetadata(ctx context.Context) Metadata {
	md, _ := ctx.Value(outgoingKey{}).(Metadata)
	return md
}

// IncomingMetadata returns the metadata of the request or message whose
// handler or hook was given ctx, or nil. It must not be modified. It is
// not sent on by calls made with ctx: use AppendMetadata for that.
func IncomingMetadata(ctx context.Context) Metadata {
	md, _ := ctx.Value(incomingKey{}).(Metadata)
	return md
}

// withIncoming returns ctx carrying md as its incoming metadata.
func withIncoming(ctx context.Context, md Metadata) context.Context {
	if md == nil {
		return ctx
	}
	return context.WithValue(ctx, incomingKey{}, md)
}

// Size returns the bytes md takes on the wire, as counted against
// WithMaxMetadataBytes: the lengths of its keys and values.
func (md Metadata) Size() int {
	if md == nil {
		return 0 // most calls carry none: no map iteration
	}
	n := 0
	for k, v := range md {
		n += len(k) + len(v)
	}
	return n
}

// check returns an error matching ErrMetadata if md has a key that is not
// valid, a reserved key (unless reserved is allowed), or more than limit
// bytes.
func (md Metadata) check(limit int, reserved bool) error {
	if md == nil {
		return nil
	}
	if n := md.Size(); n > limit {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrMetadata, n, limit)
	}
	for k := range md {
		if err := checkKey(k); err != nil {
			return err
		}
		if !reserved && strings.HasPrefix(k, ReservedPrefix) {
			return fmt.Errorf("%w: key %q has the reserved prefix %q", ErrMetadata, k, ReservedPrefix)
		}
	}
	return nil
}

// checkKey returns an error matching ErrMetadata unless k is a valid key in
// lower case.
func checkKey(k string) error {
	if k == "" {
		return fmt.Errorf("%w: empty key", ErrMetadata)
	}
	for i := range len(k) {
		c := k[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("%w: key %q: only ASCII letters, digits and \"-_.\" are allowed", ErrMetadata, truncate(k, 64))
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
