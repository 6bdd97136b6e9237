package msgpack

import (
	"fmt"
	"io"
)

// maxDepth bounds container nesting; deeper input would exhaust the
// decoder's stack, which is a fatal error rather than a panic.
const maxDepth = 10000

// validate checks, without decoding, that data holds exactly one
// MessagePack value whose declared lengths fit in the input and whose
// nesting is at most maxDepth. vmihailenco/msgpack v5.4.1 sizes slices from
// the declared length before reading the elements, so an unchecked 5-byte
// array header can request gigabytes.
func validate(data []byte) error {
	var small [32]int64
	open := append(small[:0], 1) // values still expected at each open level
	pending := int64(1)          // sum of open: values still expected
	pos := 0
	for len(open) > 0 {
		top := len(open) - 1
		if open[top] == 0 {
			open = open[:top]
			continue
		}
		open[top]--
		pending--
		if pos >= len(data) {
			return io.ErrUnexpectedEOF
		}
		start := pos
		c := data[pos]
		pos++
		skip, children, err := header(data, &pos, c)
		if err != nil {
			return fmt.Errorf("value at offset %d: %w", start, err)
		}
		remaining := int64(len(data) - pos)
		if skip > remaining {
			return fmt.Errorf("%w: %s at offset %d declares %d bytes, only %d remain",
				io.ErrUnexpectedEOF, kindName(c), start, skip, remaining)
		}
		pos += int(skip)
		if children > 0 {
			pending += children
			if pending > remaining {
				n, unit := children, "elements"
				if kindName(c) == "map" {
					n, unit = children/2, "entries"
				}
				return fmt.Errorf("%w: %s at offset %d declares %d %s, only %d bytes remain",
					io.ErrUnexpectedEOF, kindName(c), start, n, unit, remaining)
			}
			if len(open) > maxDepth {
				return fmt.Errorf("containers nested deeper than %d", maxDepth)
			}
			open = append(open, children)
		}
	}
	if pos != len(data) {
		return fmt.Errorf("%d bytes of trailing data after the value", len(data)-pos)
	}
	return nil
}

// header decodes the format byte c (and any length field after it,
// advancing *pos) into the number of payload bytes to skip and the number
// of nested values that follow.
func header(data []byte, pos *int, c byte) (skip, children int64, err error) {
	switch {
	case c <= 0x7f, c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3: // fixint, nil, bool
		return 0, 0, nil
	case c <= 0x8f: // fixmap
		return 0, 2 * int64(c&0x0f), nil
	case c <= 0x9f: // fixarray
		return 0, int64(c & 0x0f), nil
	case c <= 0xbf: // fixstr
		return int64(c & 0x1f), 0, nil
	}
	switch c {
	case 0xc4, 0xd9: // bin8, str8
		n, err := length(data, pos, 1)
		return n, 0, err
	case 0xc5, 0xda: // bin16, str16
		n, err := length(data, pos, 2)
		return n, 0, err
	case 0xc6, 0xdb: // bin32, str32
		n, err := length(data, pos, 4)
		return n, 0, err
	case 0xc7: // ext8: length, type, data
		n, err := length(data, pos, 1)
		return n + 1, 0, err
	case 0xc8: // ext16
		n, err := length(data, pos, 2)
		return n + 1, 0, err
	case 0xc9: // ext32
		n, err := length(data, pos, 4)
		return n + 1, 0, err
	case 0xcc, 0xd0: // uint8, int8
		return 1, 0, nil
	case 0xcd, 0xd1: // uint16, int16
		return 2, 0, nil
	case 0xca, 0xce, 0xd2: // float32, uint32, int32
		return 4, 0, nil
	case 0xcb, 0xcf, 0xd3: // float64, uint64, int64
		return 8, 0, nil
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1, 2, 4, 8, 16 plus the type byte
		return 1 + int64(1)<<(c-0xd4), 0, nil
	case 0xdc: // array16
		n, err := length(data, pos, 2)
		return 0, n, err
	case 0xdd: // array32
		n, err := length(data, pos, 4)
		return 0, n, err
	case 0xde: // map16
		n, err := length(data, pos, 2)
		return 0, 2 * n, err
	case 0xdf: // map32
		n, err := length(data, pos, 4)
		return 0, 2 * n, err
	}
	return 0, 0, fmt.Errorf("invalid format byte 0x%02x", c)
}

// kindName names the kind of value whose format byte is c, for messages.
func kindName(c byte) string {
	switch {
	case c >= 0x80 && c <= 0x8f, c == 0xde, c == 0xdf:
		return "map"
	case c >= 0x90 && c <= 0x9f, c == 0xdc, c == 0xdd:
		return "array"
	case c >= 0xa0 && c <= 0xbf, c >= 0xd9 && c <= 0xdb:
		return "string"
	case c >= 0xc4 && c <= 0xc6:
		return "binary"
	case c >= 0xc7 && c <= 0xc9, c >= 0xd4 && c <= 0xd8:
		return "extension"
	}
	return "number"
}

// length reads a big-endian unsigned length of size bytes at *pos.
func length(data []byte, pos *int, size int) (int64, error) {
	if len(data)-*pos < size {
		return 0, io.ErrUnexpectedEOF
	}
	var n int64
	for _, b := range data[*pos : *pos+size] {
		n = n<<8 | int64(b)
	}
	*pos += size
	return n, nil
}
