package json

import "github.com/netmessage-go/netmessage/serializers/internal/check"

// maxDepth bounds the nesting of arrays and objects, and with it the
// decoder's stack: encoding/json recurses for each level (about 250 bytes
// of stack per level), and its own limit, 10000 levels, lets a 20 KB
// document grow a goroutine's stack to megabytes.
const maxDepth = 64

// checkDepth returns an error if the arrays and objects of data nest
// deeper than maxDepth. Brackets inside strings do not count; beyond a
// syntax error the count does not matter, as encoding/json rejects the
// document anyway.
func checkDepth(data []byte) error {
	depth := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
		case '[', '{':
			if depth++; depth > maxDepth {
				return check.TooDeep("arrays and objects", maxDepth, i)
			}
		case ']', '}':
			depth--
		}
	}
	return nil
}
