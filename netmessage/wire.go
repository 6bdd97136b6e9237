package netmessage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"
)

// The typed layer's payload inside a base packet:
//
//	message, request: uvarint(len(typeID)) typeID body
//	response:         status, then for statusOK: uvarint(len(typeID)) typeID body
//	                  and for any other status, an ErrorCode: the UTF-8 error text
//
// body is the serializer's encoding of the value.

const maxTypeIDLen = 1024

// Response statuses: statusOK, or a failure's ErrorCode (these four and
// the codes of Errorf).
const (
	statusOK byte = iota
	statusError
	statusUnhandled
	statusBadRequest
	statusPanic
)

// ErrMalformed is the error for a typed payload that cannot be parsed.
var ErrMalformed = errors.New("netmessage: malformed payload")

// appendHeader appends the type id prefix.
func appendHeader(dst []byte, id string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(id)))
	return append(dst, id...)
}

// appendPayload appends the payload for v to dst: its type id and its
// serialized body.
func appendPayload(dst []byte, ser Serializer, id string, v any) ([]byte, error) {
	return appendBody(appendHeader(dst, id), dst, ser, id, v)
}

// appendBody appends the serialized v to b. On error it returns orig, the
// buffer as it was before the caller's header.
func appendBody(b, orig []byte, ser Serializer, id string, v any) ([]byte, error) {
	var err error
	if a, ok := ser.(MarshalAppender); ok {
		b, err = a.MarshalAppend(b, v)
	} else {
		var body []byte
		if body, err = ser.Marshal(v); err == nil {
			b = append(b, body...)
		}
	}
	if err != nil {
		return orig, fmt.Errorf("netmessage: %s marshal %s: %w", ser.Name(), id, err)
	}
	return b, nil
}

// maxPooledBuffer bounds the capacity of the buffers kept in bufPool, so a
// burst of large packets does not pin their memory.
const maxPooledBuffer = 64 << 10

// bufPool holds buffers for payloads that are dead once a call returns:
// base copies a payload into its write buffer before SendMessage or the
// sending step of RequestAppend returns, and serializers do not keep the
// bytes they decode (see Serializer).
var bufPool = sync.Pool{New: func() any { return new([]byte) }}

// getBuffer returns an empty pooled buffer.
func getBuffer() *[]byte {
	b := bufPool.Get().(*[]byte)
	*b = (*b)[:0]
	return b
}

// putBuffer returns b, grown to buf, to the pool.
func putBuffer(b *[]byte, buf []byte) {
	if cap(buf) > maxPooledBuffer {
		return
	}
	*b = buf[:0]
	bufPool.Put(b)
}

// splitHeader parses the type id prefix. The id aliases p.
func splitHeader(p []byte) (id, body []byte, err error) {
	n, k := binary.Uvarint(p)
	if k <= 0 || n > maxTypeIDLen || uint64(len(p)-k) < n {
		return nil, nil, fmt.Errorf("%w: bad type id header", ErrMalformed)
	}
	end := k + int(n)
	return p[k:end], p[end:], nil
}

// encodeOK returns a success response payload, in a buffer made with room
// for size bytes at least (see sizeHint).
func encodeOK(ser Serializer, id string, v any, size int) ([]byte, error) {
	b := responseBuffer(max(size, 1+binary.MaxVarintLen64+len(id)+128))
	return appendBody(appendHeader(append(b, statusOK), id), nil, ser, id, v)
}

// responseBuffers holds large response buffers that base gave back once
// it had sent them (Mux.ReleaseResponse), for the next large responses:
// making and clearing 16 KiB for every response costs more than handing a
// buffer over. smallResponses holds the buffers of smallResponse bytes
// that serve the small ones (about as fast as making one, and one
// allocation less per call for the collector), each by the address of its
// first byte: a pointer goes into an interface without an allocation, and
// every buffer there has the same capacity. A sync.Pool, unlike a
// channel, takes and gives on each processor without a lock.
var (
	responseBuffers = make(chan []byte, 64)
	smallResponses  sync.Pool // of unsafe.Pointer
)

// minPooledResponse is the size from which response buffers are reused
// from responseBuffers; smallResponse is the size of the buffers of
// smallResponses, which serve every response up to it.
const (
	minPooledResponse = 2 << 10
	smallResponse     = 512
)

// responseBuffer returns an empty buffer with room for size bytes.
func responseBuffer(size int) []byte {
	if size <= smallResponse {
		if p, ok := smallResponses.Get().(unsafe.Pointer); ok {
			return unsafe.Slice((*byte)(p), smallResponse)[:0]
		}
		return make([]byte, 0, smallResponse)
	}
	if size >= minPooledResponse {
		select {
		case b := <-responseBuffers:
			if cap(b) >= size {
				return b[:0]
			}
			// Too small for this one: left to the garbage collector.
		default:
		}
	}
	return make([]byte, 0, size)
}

// releaseResponse keeps b, a response buffer that base has sent, for a
// later response.
func releaseResponse(b []byte) {
	switch c := cap(b); {
	case c == smallResponse:
		// Any slice with this capacity has smallResponse bytes from
		// its first.
		smallResponses.Put(unsafe.Pointer(unsafe.SliceData(b)))
	case c >= minPooledResponse && c <= maxSizeHint:
		select {
		case responseBuffers <- b[:0]:
		default:
		}
	}
}

// maxSizeHint bounds what a sizeHint remembers, so that one large response
// does not make the next small ones take as much memory.
const maxSizeHint = 64 << 10

// sizeHint remembers the size of the last response of a handler, so that
// the next one is encoded into a buffer of that size made once, rather
// than grown by copies (and, when large, taken from responseBuffers).
// Responses of one type tend to be of similar sizes.
type sizeHint struct{ n atomic.Int32 }

// get returns the size to make the next buffer with.
func (h *sizeHint) get() int { return int(h.n.Load()) }

// record remembers the size n of a response: written only on a change, so
// that handlers of responses of a steady size share the value unwritten.
func (h *sizeHint) record(n int) {
	n = min(n, maxSizeHint)
	if int(h.n.Load()) != n {
		h.n.Store(int32(n))
	}
}

// encodeFailure returns an error response payload.
//
// The text is made valid UTF-8 (invalid bytes become U+FFFD), then cut to
// at most maxFailureText bytes, keeping its start and end whole
// characters, so an error that quotes its input cannot make an answer as
// large as the request.
func encodeFailure(status byte, text string) []byte {
	text = strings.ToValidUTF8(text, "\uFFFD")
	if len(text) > maxFailureText {
		const keep = maxFailureText/2 - 32
		head, tail := keep, len(text)-keep
		for head > 0 && !utf8.RuneStart(text[head]) {
			head--
		}
		for tail < len(text) && !utf8.RuneStart(text[tail]) {
			tail++
		}
		text = fmt.Sprintf("%s ... (%d bytes cut) ... %s", text[:head], tail-head, text[tail:])
	}
	return append([]byte{status}, text...)
}

// maxFailureText bounds the text of a failure answer.
const maxFailureText = 1024

// decodeResponse parses a response payload. For statusOK it returns the type
// id and body; otherwise a *RemoteError.
func decodeResponse(p []byte) (id, body []byte, err error) {
	if len(p) == 0 {
		return nil, nil, fmt.Errorf("%w: empty response", ErrMalformed)
	}
	switch p[0] {
	case statusOK:
		return splitHeader(p[1:])
	}
	// Any other status is a failure with that code: codes this end does
	// not know yet still fail the request with their text.
	return nil, nil, &RemoteError{Code: ErrorCode(p[0]), Message: string(p[1:])}
}
