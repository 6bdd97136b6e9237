package json_test

import (
	"testing"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
	"github.com/netmessage-go/netmessage/serializers/json"
)

// Sizes: "small" is sertest.Small (about 100 bytes encoded), "16KiB" is
// sertest.Large; SetBytes reports the encoded size.

func BenchmarkMarshal(b *testing.B) { sertest.BenchMarshal(b, json.New()) }

func BenchmarkUnmarshal(b *testing.B) { sertest.BenchUnmarshal(b, json.New()) }
