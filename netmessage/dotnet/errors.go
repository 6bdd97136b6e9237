package dotnet

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Errors of the compat protocol, for errors.Is.
var (
	// ErrMalformed is the decode error for received bytes that are not a
	// .NET NetMessage packet. It comes with the bad packet's length, so
	// the session skips the packet, raises the error as an event and goes
	// on.
	ErrMalformed = errors.New("dotnet: malformed packet")

	// ErrTerminator is the encode error for a payload containing the 0x04
	// terminator, which the .NET protocol cannot carry (the original would
	// send it and corrupt the stream).
	ErrTerminator = errors.New("dotnet: payload contains the 0x04 terminator")

	// ErrErrorResponse is the encode error for a response that reports a
	// failure (the handler returned an error or panicked, no handler, a
	// request that could not be decoded): the .NET protocol has no error
	// responses. The sending end raises it as an error event; the .NET
	// caller waits for its timeout, as with the original.
	ErrErrorResponse = errors.New("dotnet: the .NET protocol has no error responses")

	// ErrUnencodable is the encode error for any other packet the .NET
	// protocol cannot carry: a payload that is not valid UTF-8 (.NET reads
	// the stream as UTF-8 text), a type id that is empty, contains ':' or
	// starts with '<' or '>', or a payload not in the typed layer's layout.
	ErrUnencodable = errors.New("dotnet: packet cannot be sent to .NET")
)

// malformed returns an ErrMalformed error describing packet, the text of
// one packet without its terminator.
func malformed(packet []byte, format string, args ...any) error {
	return fmt.Errorf("%w: %s in %s", ErrMalformed, fmt.Sprintf(format, args...), excerpt(packet))
}

// excerpt quotes the start of b for an error message.
func excerpt(b []byte) string {
	const max = 64
	if len(b) <= max {
		return fmt.Sprintf("%q", b)
	}
	cut := max
	for cut > max-utf8.UTFMax && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return fmt.Sprintf("%q... (%d bytes)", b[:cut], len(b))
}
