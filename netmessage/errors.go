package netmessage

import (
	"context"
	"errors"
	"fmt"
)

// RemoteError is an error with a code that crosses the connection. A
// request fails with one when the peer could not answer it: its handler or
// an interceptor returned an error or panicked, it has no handler for the
// request's type, or it could not decode the request. A handler or an
// interceptor returns one, made with Errorf, to choose the code its caller
// gets.
type RemoteError struct {
	// Code says why the peer could not answer.
	Code ErrorCode
	// Message is the peer's description of the error.
	Message string
}

// ErrorCode says why the peer could not answer a request. On the wire it is
// the response's status byte (see docs/wire-format.md); a code this end
// does not know still fails the request, and its String is "ErrorCode(n)".
type ErrorCode uint8

// The error codes. The SDK sets the first four itself; handlers and
// interceptors return the others with Errorf.
const (
	CodeHandler    ErrorCode = ErrorCode(statusError)      // the handler returned an error without a code
	CodeUnhandled  ErrorCode = ErrorCode(statusUnhandled)  // no handler for the request's type
	CodeBadRequest ErrorCode = ErrorCode(statusBadRequest) // the request could not be decoded
	CodePanic      ErrorCode = ErrorCode(statusPanic)      // the handler panicked

	CodeUnauthenticated   ErrorCode = 5  // the caller did not prove who it is
	CodePermissionDenied  ErrorCode = 6  // the caller may not make this call
	CodeResourceExhausted ErrorCode = 7  // a quota or a limit was reached
	CodeCanceled          ErrorCode = 8  // the call was canceled (a handler returned context.Canceled)
	CodeDeadlineExceeded  ErrorCode = 9  // the call ran out of time (a handler returned context.DeadlineExceeded)
	CodeInvalidArgument   ErrorCode = 10 // the request is not valid, whatever the state
)

var codeNames = [...]string{
	CodeHandler:           "handler error",
	CodeUnhandled:         "unhandled request",
	CodeBadRequest:        "bad request",
	CodePanic:             "handler panic",
	CodeUnauthenticated:   "unauthenticated",
	CodePermissionDenied:  "permission denied",
	CodeResourceExhausted: "resource exhausted",
	CodeCanceled:          "canceled",
	CodeDeadlineExceeded:  "deadline exceeded",
	CodeInvalidArgument:   "invalid argument",
}

// String returns the code's name.
func (c ErrorCode) String() string {
	if int(c) < len(codeNames) && codeNames[c] != "" {
		return codeNames[c]
	}
	return fmt.Sprintf("ErrorCode(%d)", uint8(c))
}

// Errorf returns a *RemoteError with code and the text of
// fmt.Errorf(format, args...). Returned by a request handler or an inbound
// interceptor, it reaches the caller with that code:
//
//	return nil, netmessage.Errorf(netmessage.CodePermissionDenied, "%s may not read %s", user, doc)
//
// A code of 0 is sent as CodeHandler.
func Errorf(code ErrorCode, format string, args ...any) error {
	return &RemoteError{Code: code, Message: fmt.Errorf(format, args...).Error()}
}

// Error describes the remote failure.
func (e *RemoteError) Error() string {
	return "netmessage: remote " + e.Code.String() + ": " + e.Message
}

// Is makes errors.Is(err, ErrUnhandled) true for CodeUnhandled.
func (e *RemoteError) Is(target error) bool {
	return target == ErrUnhandled && e.Code == CodeUnhandled
}

// ErrUnhandled is about a packet whose type has no handler: it matches the
// *RemoteError of a request the peer had no handler for, and the error
// event for a message this end had no handler for (raised when no
// OnUnhandled hook is set, so that no message is dropped unnoticed).
var ErrUnhandled = errors.New("netmessage: no handler for the packet type")

// codeOf returns the code a request's caller gets for err, the error of a
// handler or of the inbound interceptors: the code of a *RemoteError in
// err's chain, CodeCanceled or CodeDeadlineExceeded for the context's
// errors, CodeHandler for any other.
func codeOf(err error) (ErrorCode, string) {
	var re *RemoteError
	switch {
	case errors.As(err, &re):
		if re.Code == 0 {
			return CodeHandler, re.Message
		}
		return re.Code, re.Message
	case errors.Is(err, context.Canceled):
		return CodeCanceled, err.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return CodeDeadlineExceeded, err.Error()
	}
	return CodeHandler, err.Error()
}

// failure returns the failure response for err; see codeOf.
func failure(err error) []byte {
	code, text := codeOf(err)
	return encodeFailure(byte(code), text)
}
