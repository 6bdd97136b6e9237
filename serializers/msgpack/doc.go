// Package msgpack is a NetMessage serializer that encodes values as
// MessagePack using github.com/vmihailenco/msgpack/v5 with its default
// options: structs are maps keyed by Go field names (or msgpack tags).
//
// [New] returns a [Serializer] whose Marshal, Unmarshal and Name methods
// satisfy the SDK's serializer interface. It keeps no state and is safe for
// concurrent use.
//
// # What is preserved
//
// Structs, slices and maps (nil and empty are distinguished), maps with any
// comparable key type, pointers, arrays, strings byte for byte (including
// NUL, control bytes and invalid UTF-8) and []byte. time.Time uses the
// MessagePack timestamp extension: the instant survives to the nanosecond,
// for any year, but not the location: decoded times are in time.Local (the
// zero time decodes as UTC).
//
// Unmarshal ignores unknown map keys, so decoding into a different struct
// type is not an error.
//
// Lossy by nature of the library and accepted: an interface field holding a
// number decodes as the smallest fitting integer type (int8, int16, ...),
// and one holding a struct decodes as map[string]any.
//
// # What is rejected
//
// Marshal and Unmarshal check types up front and return an error naming
// the Go type, the field and the reason for channels, functions, complex
// numbers, unsafe pointers and uintptr (which the library would panic on).
// Marshal rejects values containing a reference cycle.
//
// Before decoding, Unmarshal validates the framing of data: exactly one
// value, nested at most 10000 deep, whose declared lengths fit in the
// remaining input. Without this, a few bytes declaring a huge array make
// the library allocate gigabytes and crash the process. The error names
// the target type, the kind of value, its offset and the declared length.
// Input that passes costs memory in proportion to its size and to the size
// of the Go values it fills: a slice element can be encoded in one byte
// (nil), so n such bytes allocate about twice n times the element type's
// size. Keep element types small or the packet size limit low for peers
// you do not trust. Error messages longer than 512 bytes are shortened in
// the middle.
package msgpack
