// Package xml is a NetMessage serializer that encodes values as XML 1.0
// using the standard library's encoding/xml.
//
// [New] returns a [Serializer] whose Marshal, Unmarshal and Name methods
// satisfy the SDK's serializer interface. It keeps no state and is safe for
// concurrent use.
//
// # Document shape
//
// The root element is named after the value's Go type ("Ping" for a Ping
// struct, "string" for a string, "Time" for a time.Time) unless the struct
// has an XMLName field. Top-level values that are not structs work when
// encoding/xml can give them a name: named scalars, strings and types with
// a TextMarshaler. Unmarshal checks that the root element matches the
// target's type name (struct to struct decoding between different types is
// an error, unlike the json and msgpack serializers) and rejects trailing
// data after the root element.
//
// # What is preserved
//
// Structs, slices of scalars or structs, pointers, named scalar types,
// unicode text (including "\r", "\t" and "]]>"), and time.Time. Times are
// written as RFC 3339 with nanoseconds, so the instant and the UTC offset
// survive; the zone name does not (a time in a FixedZone("CET", 3600)
// decodes in an unnamed +01:00 zone, or in time.Local if its offset
// matches).
//
// Lossy by nature of encoding/xml and accepted: nil and empty slices both
// decode as nil; a nil []byte decodes as an empty one; nil pointers are
// omitted and decode as nil.
//
// # What is rejected
//
// Marshal and Unmarshal check types up front and return an error naming
// the Go type, the field and the reason, instead of encoding/xml's vague
// "unsupported type" or a silent loss:
//
//   - maps (XML has no map form; use a slice of key/value structs),
//   - interface fields (encoding/xml cannot decode into them),
//   - arrays (encoding/xml encodes but cannot decode them),
//   - slices of slices (the inner boundaries would be flattened),
//   - channels, functions, complex numbers, unsafe pointers,
//   - top-level slices (they would produce several root elements) and
//     unnamed top-level types such as []byte (no element name).
//
// Marshal also checks values: XML 1.0 cannot contain U+0000, most C0
// control characters (such as 0x04), U+FFFE/U+FFFF, or invalid UTF-8, and
// encoding/xml would silently replace them with U+FFFD. A string or []byte
// (which encoding/xml writes as raw text, not base64) holding such bytes is
// an error naming the field. Use the json or msgpack serializer, or a
// base64 string field, for binary data. Nil elements in a slice of pointers
// are rejected too, because encoding/xml would drop them.
//
// Types implementing xml.Marshaler or encoding.TextMarshaler are trusted to
// encode themselves and are not inspected.
//
// # Hostile input
//
// Before decoding, Unmarshal lexes the document once, as encoding/xml
// does, and refuses it if its elements nest deeper than 32: encoding/xml
// bounds only the depth of the values it fills, keeps every open element
// it skips on its stack, and recurses for each level it decodes, with
// about 2 KiB of goroutine stack per level. Entities are never expanded
// beyond the five predefined ones and character references, so a DOCTYPE
// declaring entities (the "billion laughs") or an external entity fails
// at the first reference as an unknown entity; nothing is fetched.
//
// The same pass estimates what decoding will allocate, from the tokens
// and the Go types their elements land in: per token what encoding/xml's
// Decoder.Token allocates (about 256 bytes per element whatever it
// holds, as the start and end tokens are boxed twice and names copied;
// 48 bytes per attribute in a growing slice; 24 per text, comment or
// directive), and per element what decoding it adds (its text collected
// and copied into a string or number, a slice grown by one element, a
// pointer allocated, attributes copied, inner XML saved). Input whose
// estimate is over 32 bytes per input byte plus 8 KiB is refused with
// [ErrDecodeLimit] before anything is decoded: runs of empty elements
// (skipped, or each an element of a slice of large structs), many
// attributes or namespace declarations, a huge number whose error would
// quote it, an XML declaration whose refused version or encoding the
// error would quote. The factor is 32, not the 16 of the msgpack serializer,
// because encoding/xml itself allocates 20 bytes per input byte for
// ordinary documents (a slice of small structs; estimated at 23); a
// document made of one-letter elements such as <I>1</I> is estimated at
// 43 and refused. Types that decode themselves (xml.Unmarshaler,
// encoding.TextUnmarshaler, time.Time) cannot be predicted: each such
// element is charged four times its size plus 512 bytes.
//
// [Serializer.DecodeBound] returns 32 and 72 KiB: 8 KiB of heap, and the
// 64 KiB of goroutine stack the decoder takes at 32 levels (measured by
// TestStackAtMaxDepth; 8 KiB for a flat document). Error messages longer
// than 512 bytes are shortened in the middle.
package xml
