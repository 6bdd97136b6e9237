package netmessage

// Returns marks a struct as a request whose response is of type Resp. Embed
// it in the request type:
//
//	type WeatherRequest struct {
//		netmessage.Returns[WeatherResponse]
//		City string
//	}
//
// It has no fields, so it adds nothing to the encoded packet.
type Returns[Resp any] struct{}

func (Returns[Resp]) netmessageReturns(Resp) {}

// RequestType is satisfied by request types answered by Resp: types that
// embed Returns[Resp]. Request and HandleRequest take it as a constraint, so
// the compiler rejects a handler that answers with any other type.
type RequestType[Resp any] interface {
	netmessageReturns(Resp)
}

// Serializer turns packet values into bytes and back. The serializers module
// has XML, JSON and msgpack implementations; both ends must use the same.
// Unmarshal must not keep data, nor make the value it fills refer to it,
// after it returns, and Marshal must not keep v: the typed layer decodes
// from buffers it reuses, and hands requests and responses to Marshal in
// memory it reuses once Marshal has succeeded.
type Serializer interface {
	// Marshal returns the encoding of v.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into the value v points to.
	Unmarshal(data []byte, v any) error
	// Name returns the serializer's name, such as "json", for error
	// messages and telemetry.
	Name() string
}

// DecodeBounder is a Serializer that bounds the memory Unmarshal takes:
// at most perByte*len(data) + fixed bytes, heap and decoder stack together,
// whatever data holds (refusing, before decoding, what would take more).
// The servers and clients NewServer and NewClient build then count each
// received payload as that much
// against their input limits (base.WithDecodeCost, base.WithMaxQueuedBytes,
// base.WithMaxInflightBytes) until its handler returns, so hostile payloads
// cannot grow memory past those limits. A serializer without it is counted
// its payload size only. The SDK's serializers have it.
type DecodeBounder interface {
	// DecodeBound returns the bound on the memory Unmarshal takes: perByte
	// bytes per byte of data, plus fixed.
	DecodeBound() (perByte, fixed int)
}

// MarshalAppender is a Serializer that can append an encoding to a
// buffer, returning the extended buffer (or dst unchanged, with an error).
// The typed layer then encodes packets straight into its reused buffers
// instead of copying each encoding, so MarshalAppend must not keep dst or
// the buffer it returns after it returns; the msgpack serializer has it.
type MarshalAppender interface {
	// MarshalAppend appends the encoding of v to dst and returns the
	// extended buffer.
	MarshalAppend(dst []byte, v any) ([]byte, error)
}
