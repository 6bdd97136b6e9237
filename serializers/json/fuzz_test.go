package json_test

import (
	stdjson "encoding/json"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
	"github.com/netmessage-go/netmessage/serializers/json"
)

// quoted has fields with the ",string" option and odd tags.
type quoted struct {
	N     int64   `json:"n,string"`
	S     string  `json:"s,string"`
	P     *uint8  `json:",string"`
	Skip  int     `json:"-"`
	Dash  float32 `json:"-,"`
	Named bool    `json:"naMe"`
}

type hidden struct{ H string }

// embedsHidden embeds a pointer to an unexported struct type, whose
// fields encoding/json can match but not set.
type embedsHidden struct {
	*hidden
	Name string
}

// targets are the types FuzzDecodeBound decodes into, chosen by a byte.
var targets = []func() any{
	func() any { return new(any) },
	func() any { return new(sertest.Envelope) },
	func() any { return new(map[string]any) },
	func() any { return new([]sertest.Item) },
	func() any { return new(map[string]int) },
	func() any { return new([]*sertest.Item) },
	func() any { return new(sertest.Maps) },
	func() any { return new(sertest.Slices) },
	func() any { return new(sertest.Pointers) },
	func() any { return new(sertest.Times) },
	func() any { return new(sertest.Embedding) },
	func() any { return new(quoted) },
	func() any { return new(sertest.Binary) },
	func() any { return new(sertest.Arrays) },
	func() any { return new(map[int8]string) },
	func() any { return new([]stdjson.Number) },
	func() any { return new(map[time.Time]int) },
	func() any { return new(sertest.Dynamic) },
	func() any { return new(embedsHidden) },
	func() any { return new(map[string]*sertest.Item) },
}

// allocated returns the bytes of heap that decoding data into a value
// from newV allocates, the least of three runs (other goroutines of the
// process may allocate meanwhile), after one that fills the caches.
func allocated(data []byte, newV func() any) uint64 {
	s := json.New()
	_ = s.Unmarshal(data, newV())
	least := ^uint64(0)
	for range 3 {
		v := newV()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_ = s.Unmarshal(data, v)
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
		runtime.KeepAlive(v)
	}
	return least
}

// FuzzDecodeBound checks that the estimate is an upper bound: decoding
// never allocates more than the estimate plus the fixed heap.
func FuzzDecodeBound(f *testing.F) {
	s := json.New()
	for i, seed := range sertest.Seeds(s) {
		f.Add(seed, uint8(i))
	}
	for _, seed := range []string{
		`[{},{"":0},[],"a",1.5,null,true]`,
		`{"a":{"b":[{"c":"\u00e9\ud83d\ude00"}]}}`,
		`{"Items":[null,{},{"name":"x","QTY":3}],"Header":{"Tags":["a","\n"]}}`,
		`{"n":"12","s":"\"x\"","P":"7","naMe":true,"Skip":1}`,
		`{"Counts":{"a":1},"ByID":{"7":"x","-1":"y"},"Lists":{"k":["a"]}}`,
		`{"Data":"aGVsbG8=","Name":"\xff"}`,
		`{"1e400":1,"300":"x"}`,
		`["1","2e-3","x"]`,
		`{"2024-01-02T03:04:05+05:30":1}`,
		`{"Fixed":[1,2,3,4],"Hash":[1,2]}`,
		`{"Value":{"k":[1,"2",[3]]}}`,
		`{"H":"x","h":"y","Name":"n"}`,
	} {
		for i := range targets {
			f.Add([]byte(seed), uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		newV := targets[int(which)%len(targets)]
		est := json.Bound.Estimate(data, newV())
		if err := s.Unmarshal(data, newV()); err != nil {
			if strings.Contains(err.Error(), json.ErrUnread) {
				t.Fatalf("the estimate could not read %q, which encoding/json accepts", data)
			}
			return
		}
		if got := allocated(data, newV); got > uint64(est) {
			t.Fatalf("decoding %q into %T allocated %d bytes, over the estimate of %d", data, newV(), got, est)
		}
	})
}
