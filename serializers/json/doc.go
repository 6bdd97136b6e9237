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
// JSON declares no lengths. Unmarshal refuses arrays and objects nested
// more than 64 deep before decoding (at 64 levels encoding/json's stack is
// 16 KiB for values in an interface, 64 KiB for a chain of struct
// pointers), and encoding/json checks the whole input before it allocates
// any value, so hostile input costs memory in proportion to its size and
// to the size of the Go values it fills: "{}," is enough for one slice
// element of a struct type (ordinary documents allocate 20 to 60 bytes per
// input byte). That size is not bounded by a factor of the input, so the
// serializer has no DecodeBound method. Error messages
// longer than 512 bytes are shortened in the middle: encoding/json quotes
// a whole number literal that does not fit its field.
package json
