package cluster

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/netmessage-go/netmessage/netmessage"
)

// The packets on the cluster's subjects (see docs/cluster.md):
//
//	message: 01 origin(8) payload
//	request: 02 origin(8) uvarint(timeout ms) payload
//	reply:   status (00 ok: netmessage response payload; 01 no key;
//	         02 timeout; 03 failed: UTF-8 text; 04 response too large
//	         for NATS: UTF-8 text)
//
// payload is netmessage's message or request payload: uvarint(len(typeID))
// typeID body, with body the serializer's encoding of the value.

const (
	kindMessage byte = 1
	kindRequest byte = 2

	replyOK      byte = 0
	replyNoKey   byte = 1
	replyTimeout byte = 2
	replyFailed  byte = 3
	replyTooBig  byte = 4

	headerLen    = 9
	maxTypeIDLen = 1024 // as netmessage's
	// MaxKeyLen is the longest key or group name, in bytes.
	MaxKeyLen = 256
)

// maxRequestTimeout bounds the timeout a request carries: a node refuses
// a request that asks for more, and a caller with more time asks for this.
const maxRequestTimeout = 24 * time.Hour

// token returns the subject token for a key or group name: its unpadded
// base64url encoding, so any string is a single valid token.
func token(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

// checkName validates a key or group name.
func checkName(what, name string) error {
	if name == "" || len(name) > MaxKeyLen {
		return fmt.Errorf("%w: %s %q must have 1 to %d bytes", ErrBadName, what, name, MaxKeyLen)
	}
	return nil
}

// validToken reports whether s can be a NATS subject token of the
// cluster's name: ASCII letters, digits, '-' and '_'.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// appendEnvelope appends a packet header.
func appendEnvelope(dst []byte, kind byte, origin uint64) []byte {
	dst = append(dst, kind)
	return binary.BigEndian.AppendUint64(dst, origin)
}

// checkPayload validates a netmessage payload's type id header.
func checkPayload(p []byte) error {
	n, k := binary.Uvarint(p)
	if k <= 0 || n == 0 || n > maxTypeIDLen || uint64(len(p)-k) < n {
		return fmt.Errorf("%w: bad type id header", ErrMalformed)
	}
	return nil
}

// splitTypeID returns the type id and body of a payload.
func splitTypeID(p []byte) (id, body []byte, err error) {
	n, k := binary.Uvarint(p)
	if k <= 0 || n > maxTypeIDLen || uint64(len(p)-k) < n {
		return nil, nil, fmt.Errorf("%w: bad type id header", ErrMalformed)
	}
	return p[k : k+int(n)], p[k+int(n):], nil
}

// typeIDs caches the ids of packet types, found as netmessage finds them
// without netmessage.WithTypeID: the type's NetMessageTypeID method, or its
// package path and name.
var typeIDs sync.Map // reflect.Type -> string

var typeIDerType = reflect.TypeFor[netmessage.TypeIDer]()

// typeIDOf returns the type id of t.
func typeIDOf(t reflect.Type) (string, error) {
	if id, ok := typeIDs.Load(t); ok {
		return id.(string), nil
	}
	var id string
	switch {
	case t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface:
		return "", fmt.Errorf("%w: %s is not a struct type", netmessage.ErrTypeID, t)
	case t.Implements(typeIDerType):
		id = reflect.Zero(t).Interface().(netmessage.TypeIDer).NetMessageTypeID()
	case t.Name() != "":
		id = t.PkgPath() + "." + t.Name()
	}
	if id == "" || len(id) > maxTypeIDLen {
		return "", fmt.Errorf("%w: %s has no usable type id", netmessage.ErrTypeID, t)
	}
	typeIDs.Store(t, id)
	return id, nil
}

// packetType is the type a value is sent as: its own, or the pointed-to
// type for a non-nil pointer.
func packetType(v any) (reflect.Type, error) {
	t := reflect.TypeOf(v)
	if t == nil {
		return nil, fmt.Errorf("%w: cannot send nil", netmessage.ErrTypeID)
	}
	if t.Kind() == reflect.Pointer {
		if reflect.ValueOf(v).IsNil() {
			return nil, fmt.Errorf("%w: cannot send a nil %s", netmessage.ErrTypeID, t)
		}
		t = t.Elem()
	}
	return t, nil
}

// appendPayload appends v's netmessage payload to dst.
func appendPayload(dst []byte, ser netmessage.Serializer, v any) ([]byte, error) {
	t, err := packetType(v)
	if err != nil {
		return dst, err
	}
	id, err := typeIDOf(t)
	if err != nil {
		return dst, err
	}
	b := binary.AppendUvarint(dst, uint64(len(id)))
	b = append(b, id...)
	if a, ok := ser.(netmessage.MarshalAppender); ok {
		b, err = a.MarshalAppend(b, v)
	} else {
		var body []byte
		if body, err = ser.Marshal(v); err == nil {
			b = append(b, body...)
		}
	}
	if err != nil {
		return dst, fmt.Errorf("cluster: %s marshal %s: %w", ser.Name(), id, err)
	}
	return b, nil
}

// decodeResponse decodes a netmessage response payload into a Resp.
func decodeResponse[Resp any](ser netmessage.Serializer, p []byte) (Resp, error) {
	var resp Resp
	if len(p) == 0 {
		return resp, fmt.Errorf("%w: empty response", ErrMalformed)
	}
	if p[0] != 0 {
		return resp, &netmessage.RemoteError{Code: netmessage.ErrorCode(p[0]), Message: string(p[1:])}
	}
	id, body, err := splitTypeID(p[1:])
	if err != nil {
		return resp, err
	}
	want, err := typeIDOf(reflect.TypeFor[Resp]())
	if err != nil {
		return resp, err
	}
	if string(id) != want {
		return resp, fmt.Errorf("%w: response type id %q, want %q", ErrMalformed, id, want)
	}
	if err := ser.Unmarshal(body, &resp); err != nil {
		return resp, fmt.Errorf("%w: %s unmarshal %s: %v", ErrMalformed, ser.Name(), want, err)
	}
	return resp, nil
}

// errShort is the error for a packet shorter than its header.
var errShort = errors.New("short packet")
