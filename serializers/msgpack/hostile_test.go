package msgpack_test

import (
	"testing"

	"github.com/netmessage-go/netmessage/serializers/msgpack"
)

// TestUnhashableMapKey: a list or map where a map[any]V expects a key
// makes the library panic; Unmarshal returns an error instead.
func TestUnhashableMapKey(t *testing.T) {
	type holder struct{ M map[any]int }
	for name, c := range map[string]struct {
		data string
		v    any
	}{
		"list as key":         {"\x81\x90\x01", new(map[any]int)},
		"map as key":          {"\x81\x80\x01", new(map[any]int)},
		"list as field's key": {"\x81\xa1M\x81\x90\x01", new(holder)},
	} {
		if err := msgpack.New().Unmarshal([]byte(c.data), c.v); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// The serializer works on afterwards (its pooled decoder was dropped).
	var m map[any]int
	if err := msgpack.New().Unmarshal([]byte("\x81\x01\x02"), &m); err != nil || len(m) != 1 {
		t.Fatalf("after: %v, %v", m, err)
	}
}
