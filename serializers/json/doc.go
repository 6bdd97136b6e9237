// Package json is a NetMessage serializer that encodes values as JSON using
// the standard library's encoding/json.
//
// [New] returns a [Serializer] whose Marshal, Unmarshal and Name methods
// satisfy the SDK's serializer interface. It keeps no state and is safe for
// concurrent use. Struct tags, json.Marshaler and encoding.TextMarshaler
// work as documented by encoding/json.
//
// # What is preserved
//
// Structs, slices (nil stays nil, empty stays empty), maps with string or
// integer keys (nil and empty are distinguished), pointers, unicode text,
// strings containing NUL or other control bytes (escaped as \u0000), and
// []byte (base64). time.Time is written as RFC 3339 with nanoseconds, so
// the instant and the UTC offset survive; the zone name does not (a time in
// FixedZone("CET", 3600) decodes in an unnamed +01:00 zone, or in
// time.Local if its offset matches).
//
// Unmarshal ignores unknown object keys, so decoding into a different
// struct type is not an error; it rejects trailing data.
//
// Lossy by nature of JSON and accepted: an interface field holding a number
// decodes as float64, and one holding a struct or map decodes as
// map[string]any.
//
// # What is rejected
//
// Marshal and Unmarshal check types up front and return an error naming
// the Go type, the field and the reason:
//
//   - channels, functions, complex numbers, unsafe pointers,
//   - maps whose keys are not strings, integers or text marshalers.
//
// Marshal also rejects strings that are not valid UTF-8 (encoding/json
// would silently replace the bad bytes with U+FFFD) and values containing
// a reference cycle. Use a []byte field for binary data.
//
// # Hostile input
//
// Before decoding, Unmarshal makes one pass over data with the target's
// type, without allocating. It refuses arrays and objects nested more than
// 64 deep (encoding/json's own limit, 10000, lets a 20 KB document grow a
// goroutine's stack to megabytes), and it estimates what encoding/json will
// allocate, from the wire values and the Go types they land in: fields
// resolved as encoding/json resolves them (tags, case-insensitive names,
// embedded structs, unknown keys skipped), maps made without a size hint
// and grown per entry, slices grown one element at a time (about five times
// their final size in all, growth included), pointers, unquoted strings and
// keys, base64, boxed numbers and the map[string]any and []any of interface
// values, type errors (each makes an error value), and the goroutine stack
// beyond 16 KiB (1152 bytes per level of structs or maps, 704 per slice,
// 192 inside an interface, a little over what TestStackAtMaxDepth
// measures). Input whose estimate is over 16 bytes per input byte plus
// 4 KiB is refused with [ErrDecodeLimit] before anything is decoded: runs of
// tiny objects or arrays in an interface or a map, nulls or {} filling the
// elements of a slice of structs, numbers where strings are expected,
// struct pointers nested deep in a small document. The estimate assumes v
// points to a zero value.
//
// Ordinary payloads allocate 2 to 12 bytes per input byte, measured by
// TestDecodeBound (20000 structs with a string and two numbers 4.3, records
// with a small map 4.4, text 2.6, 20000 words 7.9, a map of 1000 strings
// 8.1, prices and names in a []any 7.3, records into any 11.0), and a
// []int64 of 1- or 2-digit numbers 14.1, as each element grows the slice. A
// []any of such numbers allocates about 36 (its 16-byte elements grown, and
// a float64 boxed for each), so it is refused; numbers of several digits in
// a []any pass. Types that decode themselves (json.Unmarshaler,
// encoding.TextUnmarshaler, time.Time) cannot be predicted: they are
// charged as an interface value holding the same data plus 4 bytes per wire
// byte.
//
// [Serializer.DecodeBound] returns 16 and 20 KiB: 4 KiB of heap
// (encoding/json's decode state and nesting stack, its error context, the
// error) and 16 KiB of stack, which holds 64 levels inside an interface or
// 11 levels of structs; a deeper stack is charged in the estimate. Error
// messages longer than 512 bytes are shortened in the middle: encoding/json
// quotes a whole number literal that does not fit its field.
package json
