package netmessage

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"sync"
	"sync/atomic"
)

// TypeIDer is implemented by packet types that name their own type id, the
// string that identifies the type on the wire. Implement it on the value
// type to keep the id stable across package renames or to match another
// implementation:
//
//	func (WeatherRequest) NetMessageTypeID() string { return "Interop.WeatherRequest" }
//
// Without it the id is the type's package path and name, such as
// "example.com/weather.WeatherRequest".
type TypeIDer interface {
	// NetMessageTypeID returns the type's id on the wire.
	NetMessageTypeID() string
}

// ErrTypeID is the error for a type without a usable type id, or for two
// types that claim the same id.
var ErrTypeID = errors.New("netmessage: type id")

// registry maps packet types to their ids and back, for one endpoint.
// Every send looks an id up, so byType is read without a lock: it is
// never changed, only replaced by a copy with one more type (types are
// registered once each, so copies are few).
type registry struct {
	byType   atomic.Pointer[map[reflect.Type]string]
	mu       sync.Mutex // held to register a type
	byID     map[string]reflect.Type
	explicit map[reflect.Type]string
}

func newRegistry() *registry {
	r := &registry{
		byID:     make(map[string]reflect.Type),
		explicit: make(map[reflect.Type]string),
	}
	r.byType.Store(&map[reflect.Type]string{})
	return r
}

var typeIDerType = reflect.TypeFor[TypeIDer]()

// defaultID is the id a type has without WithTypeID.
func defaultID(t reflect.Type) (string, error) {
	// register has refused pointer and interface types.
	if t.Implements(typeIDerType) {
		id := reflect.Zero(t).Interface().(TypeIDer).NetMessageTypeID()
		if id == "" {
			return "", fmt.Errorf("%w: %s.NetMessageTypeID returned an empty id", ErrTypeID, t)
		}
		return id, nil
	}
	if reflect.PointerTo(t).Implements(typeIDerType) {
		// Values are sent as t, which lacks the method: refuse rather than
		// silently use the default id.
		return "", fmt.Errorf("%w: NetMessageTypeID is declared on *%s; declare it on %s", ErrTypeID, t, t)
	}
	if t.Name() == "" {
		return "", fmt.Errorf("%w: %s has no name; use a named type", ErrTypeID, t)
	}
	return t.PkgPath() + "." + t.Name(), nil
}

// id returns t's type id, registering t on first use.
func (r *registry) id(t reflect.Type) (string, error) {
	if id, ok := (*r.byType.Load())[t]; ok {
		return id, nil
	}
	return r.register(t)
}

func (r *registry) register(t reflect.Type) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	byType := *r.byType.Load()
	if id, ok := byType[t]; ok {
		return id, nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		// Values are sent as the type they point to: that type has the id.
		return "", fmt.Errorf("%w: %s is a pointer type; use %s", ErrTypeID, t, t.Elem())
	case reflect.Interface:
		return "", fmt.Errorf("%w: %s is an interface type; use a concrete type", ErrTypeID, t)
	}
	id, ok := r.explicit[t]
	if !ok {
		var err error
		if id, err = defaultID(t); err != nil {
			return "", err
		}
	}
	if other, taken := r.byID[id]; taken {
		return "", fmt.Errorf("%w %q is claimed by both %s and %s", ErrTypeID, id, other, t)
	}
	if len(id) > maxTypeIDLen {
		return "", fmt.Errorf("%w %q is longer than %d bytes", ErrTypeID, id, maxTypeIDLen)
	}
	next := make(map[reflect.Type]string, len(byType)+1)
	maps.Copy(next, byType)
	next[t] = id
	r.byType.Store(&next)
	r.byID[id] = t
	return id, nil
}

// setExplicit records an id given with WithTypeID.
func (r *registry) setExplicit(t reflect.Type, id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty id for %s", ErrTypeID, t)
	}
	for other, oid := range r.explicit {
		if oid == id && other != t {
			return fmt.Errorf("%w %q is claimed by both %s and %s", ErrTypeID, id, other, t)
		}
	}
	r.explicit[t] = id
	return nil
}

// packetType returns the type a value is sent as: the value's type, or the
// pointed-to type for a non-nil pointer.
func packetType(v any) (reflect.Type, error) {
	t := reflect.TypeOf(v)
	if t == nil {
		return nil, fmt.Errorf("%w: cannot send nil", ErrTypeID)
	}
	if t.Kind() == reflect.Pointer {
		if reflect.ValueOf(v).IsNil() {
			return nil, fmt.Errorf("%w: cannot send a nil %s", ErrTypeID, t)
		}
		t = t.Elem()
	}
	return t, nil
}
