// Package dotnetxml is a NetMessage serializer that writes and reads the
// XML of .NET's XmlSerializer as the original .NET NetMessage uses it
// (its XmlDataSerializer): no XML declaration, no namespaces, the root
// element named after the class, one element per public property in
// declaration order, null references left out. Together with package
// netmessage/dotnet it lets Go endpoints talk to .NET NetMessage
// endpoints; docs/dotnet-interop.md has the whole picture.
//
// It is written for that mapping with reflection (encoding/xml cannot
// produce these forms); plans are built once per type and cached. It is
// safe for concurrent use.
//
// # Type mapping
//
//	Go                                  .NET                  XML
//	string                              string                text; "" is null (left out)
//	*string                             string                nil is null, "" is <X />
//	bool                                bool                  true / false
//	int32, int (must fit 32 bits)       int                   -42
//	int64                               long                  9007199254740993
//	int8, int16, uint8, uint16          sbyte, short, byte, ushort
//	uint32, uint (must fit 32 bits)     uint
//	uint64                              ulong
//	float64, float32                    double, float         3.25, 1E+21, INF, NaN
//	time.Time                           DateTime              2026-11-25T13:14:15.123 / ...Z (see DateTime)
//	Guid                                Guid                  0f8fad5b-d9cb-469f-a165-70867728950e
//	[]byte                              byte[]                base64; nil left out
//	integer type with String()          enum                  its name: High
//	encoding.TextMarshaler              (any text type)       its text
//	struct (named)                      class                 child elements
//	*struct                             class reference       nil left out
//	[]T                                 List<T>, T[]          <Tags><string>x</string>...</Tags>
//	[]*T                                List<T> with nulls    a nil item is <string xsi:nil="true" ... />
//	embedded struct                     base class            its properties, where it stands
//
// .NET writes a base class's properties before the derived class's own:
// embed the struct that models the base class as the first field.
//
// Lists name their items after the item type: <string>, <int>, <long>,
// <double>, <boolean>, <dateTime>, <guid>, <base64Binary>, the class or
// enum name, or "ArrayOf" and the item's name for a list of lists. A
// top-level value is a root element of the same name ("<string>plain
// string</string>", "<int>5</int>", "<ArrayOfString>").
//
// # Names
//
// A struct or enum is named after its Go type unless it implements
// [ClassNamer]: a DotNetName method returning the .NET class name. A
// field's element is named after the field unless its tag says otherwise:
// `dotnet:"Name"`; `dotnet:"-"` leaves the field out, as are unexported
// fields.
//
// # DateTime
//
// Marshal applies these rules in order: the zero time.Time is .NET's
// default(DateTime), "0001-01-01T00:00:00"; a time whose Location is
// time.UTC (or, other than time.Local, whose zone is named "UTC" at
// offset 0, such as time.FixedZone("UTC", 0)) is a UTC DateTime,
// "2026-11-25T13:14:15Z"; any other is written as its wall clock without
// a zone, as the captured .NET wrote local and unspecified times.
// Fractional seconds are written only when not zero, to .NET's precision
// of 100 ns (finer digits are dropped).
//
// Unmarshal reads "Z" as a time in time.UTC, except DateTime.MinValue,
// "0001-01-01T00:00:00Z", which is the zero instant in
// time.FixedZone("UTC", 0) (in time.UTC it would be the zero time.Time,
// written without the "Z"). A time without a zone (.NET's Unspecified
// kind, and Local as Mono writes it) is its wall clock in [Unspecified],
// a fixed zone at offset 0, so it comes back byte for byte whatever the
// process's zone: a wall clock in a daylight-saving gap is not moved, one
// in the autumn overlap is not ambiguous. "0001-01-01T00:00:00" is the
// zero time.Time. A time with an offset (.NET on Windows writes local
// times so) is the same instant in time.Local, held within years 1 to
// 9999 there as .NET holds it.
//
// # Enums
//
// A Go integer type with a String method is a .NET enum: String's result
// is written, and reading needs an UnmarshalText method (from
// encoding.TextUnmarshaler) that parses it back. A type with MarshalText
// and UnmarshalText is written as its text whatever its kind.
//
// # Input
//
// Unmarshal accepts what .NET writes with other settings too: an XML
// declaration, namespace declarations, white space between elements,
// comments, CDATA, elements in any order and xsi:nil="true" for null.
// Unknown elements and stray text are skipped, as XmlSerializer does. The
// root element must match the target type.
//
// # Limits
//
// XML 1.0 cannot carry most control characters (such as the 0x04 that
// frames the .NET protocol), U+FFFE, U+FFFF or invalid UTF-8: Marshal
// refuses them with an error naming the property and byte offset. A '\r'
// is written as "&#xD;" so that it survives the reader's line-end
// normalization. Maps, interfaces, arrays other than Guid, channels,
// functions and complex numbers have no mapping and are refused. A nil
// item of a list of pointers (or of lists) is .NET's null item, written
// as Mono's XmlSerializer writes it: <string xsi:nil="true"
// xmlns:xsi="..." />, and read back as nil. Values that do not fit their .NET type (an int
// over 32 bits, a date past year 9999) are refused rather than truncated,
// by Marshal and by Unmarshal. Unmarshal's error messages longer than 512
// bytes are shortened in the middle, as the other serializers' are, so a
// huge bad value is not quoted whole.
//
// # Hostile input
//
// Before decoding, Unmarshal lexes the document once, as encoding/xml's
// tokenizer does, and refuses it if its elements nest deeper than 32, as
// the xml serializer does (the same check): the tokenizer keeps every
// open element, even a skipped one, on its stack, and the decoder
// recurses for each level. The same pass estimates what decoding will
// allocate, from the tokens and the plans of the types their elements
// land in: per token what the tokenizer allocates (about 200 bytes per
// element whatever it holds, 48 per attribute), and per element what the
// decoder adds (its text collected and parsed: nothing more for strings
// and numbers, copies for base64, Guid and enums, a zone for a dateTime
// with an offset; for each item of a list, the item and a slice header,
// and the growth of the list; a pointer allocated), and once the error of
// the largest bad value, quoted and wrapped at each level. Input whose
// estimate is over 32 bytes per input byte plus 8 KiB is refused with
// [ErrDecodeLimit] before anything is decoded: runs of empty elements or
// items, many attributes, a huge value whose error would quote it. The
// factor is 32 because the tokenizer alone makes ordinary lists of small
// objects cost 14 to 17 bytes per input byte (estimated at 20 to 22).
// Types with UnmarshalText
// (enums and others) cannot be predicted: each such value is charged five
// times its text plus 512 bytes.
//
// [Serializer.DecodeBound] returns 32 and 40 KiB: 8 KiB of heap, and the
// 32 KiB of goroutine stack the decoder takes at 32 levels (measured by
// TestStackAtMaxDepth).
package dotnetxml
