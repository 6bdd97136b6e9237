package dotnetxml

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
)

// estimateTarget has every kind of plan.
type estimateTarget struct {
	S     string
	P     *string
	N     int32
	F     float64
	B     bool
	T     time.Time
	G     Guid
	Blob  []byte
	Tags  []string
	Kids  []*estimateTarget
	Opt   []*string
	Child *estimateTarget
}

var estimateTargets = []func() any{
	func() any { return new(estimateTarget) },
	func() any { return new([]estimateTarget) },
	func() any { return new(int32) },
}

// FuzzEstimate checks that Unmarshal allocates no more than the estimate
// plus fixedHeap, for documents it decodes and for those it fails on.
// Each execution reads the memory statistics, which stops the world, so
// scripts/fuzz gives it fewer executions:
//
// fuzz budget: 10000x
func FuzzEstimate(f *testing.F) {
	seeds := []string{
		`<estimateTarget><S>s</S><P/><N>1</N><F>2.5</F><B>true</B><T>2026-01-02T03:04:05+01:00</T><G>0f8fad5bd9cb469fa16570867728950e</G>` +
			`<Blob>AAT/</Blob><Tags><string>a</string><string>b</string></Tags><Opt><string xsi:nil="true" xmlns:xsi="x"/><string>o</string></Opt><Kids><estimateTarget><N>2</N></estimateTarget></Kids>` +
			`<Child><S>c</S></Child></estimateTarget>`,
		`<ArrayOfEstimateTarget><estimateTarget><N>x</N></estimateTarget></ArrayOfEstimateTarget>`,
		"<int>1</int>",
		"<estimateTarget>" + strings.Repeat("<Child>", 20) + "<N>bad</N>",
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.xml"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			seeds = append(seeds, string(b))
		}
	}
	for _, s := range seeds {
		for i := range estimateTargets {
			f.Add([]byte(s), uint8(i))
		}
	}
	s := Serializer{}
	f.Fuzz(func(t *testing.T, data []byte, target uint8) {
		newV := estimateTargets[int(target)%len(estimateTargets)]
		v := newV()
		_ = s.Unmarshal(data, newV()) // plan caches, pools
		var err error
		got := sertest.Allocs(func() { err = s.Unmarshal(data, v) })
		est := Bound.Estimate(data, newV())
		if int64(got) > est {
			t.Fatalf("Unmarshal(%q) into %T allocated %d bytes, estimate %d (error: %v)", data, v, got, est, err)
		}
	})
}
