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
// # Hostile input
//
// Before decoding, Unmarshal validates the framing of data: exactly one
// value, containers nested at most 64 deep, whose declared lengths fit in
// the remaining input. Without this, a few bytes declaring a huge array
// make the library allocate gigabytes and crash the process. The error
// names the target type, the kind of value, its offset and the declared
// length.
//
// The same pass estimates, from the wire values and the Go types they
// land in, what decoding will allocate: maps (Go's swiss tables, sized
// from the declared length), slices (the library allocates a typed slice
// twice: 2 x n x the element size), pointers, strings, boxed numbers, and
// for interface values the map[string]any, []any and boxed scalars the
// library chooses. Input whose estimate is over 16 bytes per input byte
// plus 8 KiB is refused with [ErrDecodeLimit] before anything is decoded:
// a run of tiny maps, nil elements of a slice of large structs, one-entry
// typed maps. Ordinary payloads allocate 2 to 12 bytes per input byte;
// a []int64 of 1-byte numbers exactly 16, a []any inside an interface
// about 16, but a typed []any of 1-byte numbers 32, which is refused.
// Types that decode themselves (Unmarshaler, BinaryUnmarshaler,
// TextUnmarshaler, time.Time) cannot be predicted: they are charged as an
// interface value holding the same data plus twice their wire size.
//
// # Plain types
//
// Structs made of booleans, numbers, strings, byte slices, string slices,
// and structs and slices of these (embedded structs included; no tag
// options, no pointers, maps, interfaces, arrays or time.Time, no methods
// or encoders registered with the library that change the encoding) are
// encoded and decoded without the library, through a description of the
// type compiled once: the same bytes and the same decoded values as the
// library's (including into a non-zero value), several times faster. Input such a type does not decode whole
// (an unknown field, a map key that is not a string, a value of another
// kind, bad framing) goes the general way: the checks, then the library,
// with their errors. The strings and byte slices decoded from an input of
// up to 512 bytes share one copy of it, one allocation instead of one
// each: keeping any of them keeps that copy alive. In a larger input, those
// of up to 64 bytes share copies of 256 bytes, and longer ones are copied
// alone.
//
// # Generated code
//
// A type with MessagePack methods in the shape github.com/tinylib/msgp
// generates ([MsgMarshaler] on the type or its pointer, [MsgUnmarshaler]
// on its pointer) is encoded and decoded by them instead of by reflection:
// several times faster to encode and about twice as fast to decode, with
// the allocations of their code (each decoded string and slice). Other
// types see no change, and this module does not depend on msgp. A value
// whose MarshalMsg has a pointer receiver is copied into a pooled value of
// its type to call it. Types that encode
// themselves for vmihailenco/msgpack (Marshaler, CustomEncoder,
// BinaryMarshaler, TextMarshaler) keep doing so.
//
// The two ends need not both use generated code: the bytes are what the
// reflective path reads and writes, as long as the field names are the
// same (run the generator with the //msgp:tag msgpack directive, or give
// fields equal msg and msgpack tags) and time.Time fields use the
// MessagePack timestamp extension (the //msgp:newtime directive). Give
// slice and map fields the allownil option: without it msgp writes a nil
// one as empty and fails on the nil the reflective path writes. msgp
// inlines an embedded struct, as the reflective path does, only with the
// flatten option.
//
// The checks of the input run first for these types too: framing, depth
// and the decoded-size estimate of the Go type, which counts a field under
// its msgpack tag, its msg tag and its Go name, and counts integers in
// interfaces as boxed, as msgp decodes them. UnmarshalMsg must not keep
// the input, and must not allocate more than decoding the same type with
// reflection would: code generated from the type's fields does not.
//
// At 64 levels the decoder's goroutine stack is 32 KiB (8 KiB for a flat
// value): [Serializer.DecodeBound] returns 16 and 40 KiB. Error messages
// longer than 512 bytes are shortened in the middle.
package msgpack
