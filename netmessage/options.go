package netmessage

import (
	"fmt"
	"log/slog"
	"reflect"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
	"github.com/netmessage-go/netmessage/serializers/msgpack"
)

// Option configures a Mux.
type Option interface{ apply(*config) }

type option func(*config)

func (o option) apply(c *config) { o(c) }

type config struct {
	ser         Serializer
	proto       func() base.Protocol
	ids         []explicitID
	transport   []base.Option
	onUnhandled func(*base.Session, base.Kind, string)
	inbound     []Interceptor
	outbound    []Interceptor
	logger      *slog.Logger
	errs        []error // option errors, reported by NewMux
}

type explicitID struct {
	t  reflect.Type
	id string
}

func defaultConfig() config {
	return config{ser: msgpack.New(), proto: native.New}
}

// WithSerializer sets the serializer (default: msgpack from the serializers
// module, for its speed, compact output and byte-safe strings). Both ends
// must use the same one.
func WithSerializer(s Serializer) Option {
	return option(func(c *config) { c.ser = s })
}

// WithProtocol sets the wire protocol that NewServer and NewClient speak
// (default: native.New).
func WithProtocol(newProto func() base.Protocol) Option {
	return option(func(c *config) { c.proto = newProto })
}

// WithTypeID gives type T the type id id on the wire, overriding its
// NetMessageTypeID method or default id. Two types with one id fail
// NewMux. A pointer type stands for the type it points to, which is how
// its values are sent; an interface type fails with ErrTypeID.
func WithTypeID[T any](id string) Option {
	return option(func(c *config) {
		t := reflect.TypeFor[T]()
		switch t.Kind() {
		case reflect.Pointer:
			t = t.Elem()
		case reflect.Interface:
			c.errs = append(c.errs, fmt.Errorf("%w: WithTypeID for the interface type %s; use a concrete type", ErrTypeID, t))
			return
		}
		c.ids = append(c.ids, explicitID{t, id})
	})
}

// WithTypeIDOf is WithTypeID for the type of v (a value or a pointer to
// one), for code that lists packet types as values:
//
//	netmessage.WithTypeIDOf(WeatherRequest{}, "Interop.WeatherRequest")
func WithTypeIDOf(v any, id string) Option {
	return option(func(c *config) {
		t, err := packetType(v)
		if err != nil {
			c.errs = append(c.errs, err)
			return
		}
		c.ids = append(c.ids, explicitID{t, id})
	})
}

// Combine returns an option that applies opts in order, for packaging a
// set of options as one (a compatibility profile, say). A nil option in
// opts fails NewMux.
func Combine(opts ...Option) Option {
	return option(func(c *config) {
		for _, o := range opts {
			if o == nil {
				c.errs = append(c.errs, fmt.Errorf("netmessage: nil option"))
				continue
			}
			o.apply(c)
		}
	})
}

// WithTransport adds settings of the base transport that NewServer and
// NewClient apply before their own options: heartbeats, timeouts, limits
// (base.WithHeartbeat, base.WithMaxPacketSize and so on), for a profile
// that needs them with its protocol (dotnet.Compat does). They are base
// options like any other: one the transport cannot apply, such as
// base.OnMessage beside the Mux, makes the server's Serve or the client's
// Connect fail with an error matching base.ErrInvalidOption. A nil one
// fails NewMux.
func WithTransport(opts ...base.Option) Option {
	return option(func(c *config) {
		for _, o := range opts {
			if o == nil {
				c.errs = append(c.errs, fmt.Errorf("netmessage: nil transport option"))
				return
			}
		}
		c.transport = append(c.transport, opts...)
	})
}

// OnUnhandled sets the hook for packets whose type has no handler: kind is
// base.KindMessage or base.KindRequest, typeID the packet's type id. The
// caller of an unhandled request gets a *RemoteError matching ErrUnhandled.
// Without the hook, an unhandled message raises an error event matching
// ErrUnhandled.
func OnUnhandled(f func(s *base.Session, kind base.Kind, typeID string)) Option {
	return option(func(c *config) { c.onUnhandled = f })
}
