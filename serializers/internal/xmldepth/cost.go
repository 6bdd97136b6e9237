package xmldepth

import "github.com/netmessage-go/netmessage/serializers/internal/check"

// What encoding/xml's Decoder.Token allocates per token, whatever the
// token is decoded into (Go 1.26): a StartElement (56 bytes) is boxed into
// a Token by RawToken and again by Token, and the decoders that read it
// into a struct take its address (three 64-byte objects); an EndElement is
// boxed twice (32 bytes each); CharData, Comment and Directive once (24
// bytes), ProcInst once (48 bytes) plus its target. Names and attribute
// values are new strings; each attribute is a 48-byte Attr in a slice that
// grows by appending, and may push a 64-byte namespace entry.
const (
	startCost = 3 * 64
	endCost   = 2 * 32
	textCost  = 24
	piCost    = 48
	attrSize  = 48
	nsCost    = 64
)

// TokenCost returns an upper bound on what encoding/xml's Decoder.Token
// allocates to return tok, apart from its reusable buffer (see
// BufferCost).
func TokenCost(tok *Token) int64 {
	switch tok.Kind {
	case Start:
		n := int64(tok.Attrs)
		return startCost + check.Alloc(int64(len(tok.Name))) +
			check.AppendGrowth(n, attrSize) + AllocMany(int64(tok.AttrBytes), 2*n) + n*nsCost
	case End:
		return endCost + check.Alloc(int64(len(tok.Name)))
	case ProcInst:
		n := int64(tok.Len)
		return piCost + 2*check.Alloc(n) + declErrorCost(int64(tok.Quoted))
	}
	return textCost
}

// BufferCost returns an upper bound on what encoding/xml's buffer for
// token contents allocates, garbage included, when the longest token is
// longest bytes, and on what its map of namespace prefixes allocates when
// the document has attrs attributes in all. bytes.Buffer doubles, so its
// allocations sum to at most twice its final size, itself at most twice
// the longest token.
func BufferCost(longest, attrs int64) int64 {
	c := 2*check.Alloc(2*longest) + 128
	if attrs > 0 {
		c += check.MapCost(attrs, 16, 8, 16, 8, false)
	}
	return c
}

// SyntaxErrorCost returns an upper bound on what encoding/xml's error for
// an end tag that does not match its start tag allocates when the longest
// element name is longest bytes: its text holds both names, and is built
// by the decoder, then again each time it is printed.
func SyntaxErrorCost(longest int64) int64 {
	return 3 * check.Alloc(2*longest+64)
}

// AllocMany returns an upper bound on the sum of check.Alloc(n) over count
// allocations whose sizes n add up to total: each is rounded up to its
// size class, by at most a quarter plus 16 bytes, or to whole 8 KiB pages
// when over 32 KiB.
func AllocMany(total, count int64) int64 {
	if total <= 0 && count <= 0 {
		return 0
	}
	return total + total/4 + 16*count + 8192*(total/32768)
}

// AppendCost returns an upper bound on what appending chunks pieces of
// total bytes in all to a nil []byte allocates, garbage included: one
// allocation for one piece; otherwise a slice grows by 1.25 to 2 times,
// so its allocations sum to at most five times its final one, itself at
// most twice the total rounded up to a size class.
func AppendCost(total, chunks int64) int64 {
	switch {
	case total <= 0:
		return 0
	case chunks <= 1:
		return check.Alloc(total)
	}
	return 5*check.Alloc(2*total) + 16*chunks
}

// declErrorCost returns an upper bound on what the error for an XML
// declaration that encoding/xml refuses allocates, when it quotes a value
// of q bytes (%q: up to 4 bytes for each): strconv.AppendQuote grows its
// slice from a small one, and the message is then built twice (by the
// decoder, and again by the serializer's wrapping), each time into a
// printer buffer that may grow from empty, then copied into a string.
func declErrorCost(q int64) int64 {
	if q == 0 {
		return 0
	}
	quoted := 4 * q
	msg := quoted + 128 // the messages' own text and the type's name
	return AppendCost(quoted, 2) + 2*(AppendCost(msg, 2)+check.Alloc(msg)) + 256
}
