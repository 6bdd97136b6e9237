package xml

import "github.com/netmessage-go/netmessage/serializers/internal/xmldepth"

// maxDepth bounds element nesting. encoding/xml limits the depth of the
// Go values it decodes into (to 10000), but not of the elements it skips or
// reads as tokens: each open element stays on its stack, so a document
// nested a million deep holds a million stack entries (about 190 bytes
// each) before it fails. It also recurses for each level it decodes, with
// about 2 KiB of goroutine stack per level: 32 levels keep the stack
// at 64 KiB. estimate checks it while it lexes the document.
const maxDepth = 32

// tooDeep returns the offset of the first element of data nested deeper
// than limit, or -1 (see xmldepth.Offset).
func tooDeep(data []byte, limit int) int { return xmldepth.Offset(data, limit) }
