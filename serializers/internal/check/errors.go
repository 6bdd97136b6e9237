package check

import (
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"
)

// Error is the error returned by every serializer operation.
type Error struct {
	Format string       // "json", "xml", "msgpack"
	Op     string       // "marshal" or "unmarshal"
	Type   reflect.Type // the value's type, or the target's type; nil if unknown
	Err    error
}

// Wrap returns an *Error for err, or nil if err is nil. A bare io.EOF (the
// input ended before a value) becomes io.ErrUnexpectedEOF so that callers
// reading streams do not mistake it for a clean end.
func Wrap(format, op string, t reflect.Type, err error) error {
	if err == nil {
		return nil
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return &Error{Format: format, Op: op, Type: t, Err: err}
}

// maxMessage bounds the underlying message in Error. Some library messages
// quote the input (encoding/json quotes a whole number literal), and a
// peer's payload must not become an error text of megabytes, sent back as
// a remote error or written to a log.
const maxMessage = 512

// Error returns "format: op type: message", without repeating the format
// prefix that library messages often carry. A message longer than 512
// bytes keeps its first and last 256 bytes (where the reason usually is)
// and says how many bytes were elided.
func (e *Error) Error() string {
	typ := "<nil>"
	if e.Type != nil {
		typ = e.Type.String()
	}
	msg := strings.TrimPrefix(e.Err.Error(), e.Format+": ")
	if len(msg) > maxMessage {
		head, tail := maxMessage/2, len(msg)-maxMessage/2
		for head > 0 && !utf8.RuneStart(msg[head]) {
			head--
		}
		for tail < len(msg) && !utf8.RuneStart(msg[tail]) {
			tail++
		}
		msg = fmt.Sprintf("%s ... (%d bytes elided) ... %s", msg[:head], tail-head, msg[tail:])
	}
	return e.Format + ": " + e.Op + " " + typ + ": " + msg
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Errorf is a shorthand for Wrap with a formatted message.
func Errorf(format, op string, t reflect.Type, msg string, args ...any) error {
	return Wrap(format, op, t, fmt.Errorf(msg, args...))
}

// Target returns the reflect.Value that Unmarshal should decode into, or an
// error if v is not a non-nil pointer.
func Target(format string, v any) (reflect.Value, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		var t reflect.Type
		if rv.IsValid() {
			t = rv.Type()
		}
		return rv, Errorf(format, "unmarshal", t, "target must be a non-nil pointer")
	}
	return rv, nil
}
