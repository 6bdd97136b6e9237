package xml

import (
	stdxml "encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
)

// estimateTarget uses every field form encoding/xml decodes.
type estimateTarget struct {
	XMLName stdxml.Name   `xml:"T"`
	ID      string        `xml:"id,attr"`
	N       *int          `xml:"n,attr"`
	Attrs   []stdxml.Attr `xml:",any,attr"`
	Text    string        `xml:",chardata"`
	Note    string        `xml:",comment"`
	Inner   string        `xml:",innerxml"`
	Leaves  []string      `xml:"a>b>c"`
	Nums    []int64       `xml:"a>n"`
	At      []time.Time
	Env     *sertest.Envelope `xml:"Envelope"`
	Others  []sertest.Item    `xml:",any"`
}

var estimateTargets = []func() any{
	func() any { return new(sertest.Envelope) },
	func() any { return new(estimateTarget) },
	func() any { return new(*sertest.Tree) },
}

// FuzzEstimate checks that Unmarshal allocates no more than the estimate
// plus fixedHeap, for documents it decodes and for those it fails on.
// Each execution reads the memory statistics, which stops the world, so
// scripts/fuzz gives it fewer executions:
//
// fuzz budget: 10000x
func FuzzEstimate(f *testing.F) {
	for _, s := range append(lexerSeeds,
		`<T id="1" n="2" x="3">text<!--c--><a><b><c>v</c><c>w</c></b><n>1</n><n>x</n></a><At>2026-01-02T03:04:05+01:00</At><z><Name>q</Name></z></T>`,
		`<Envelope><Header><ID>1</ID><Tags>a</Tags><Tags>b</Tags></Header><Items><Name>x</Name><Qty>2</Qty></Items><Reply/><Note>n</Note></Envelope>`,
		`<Tree><Name>a</Name><Children><Children/></Children></Tree>`,
		"<T>"+strings.Repeat("<z/>", 50)+"</T>",
	) {
		for i := range estimateTargets {
			f.Add([]byte(s), uint8(i))
		}
	}
	s := Serializer{}
	f.Fuzz(func(t *testing.T, data []byte, target uint8) {
		newV := estimateTargets[int(target)%len(estimateTargets)]
		v := newV()
		_ = s.Unmarshal(data, newV()) // type caches, pools
		var err error
		got := sertest.Allocs(func() { err = s.Unmarshal(data, v) })
		est := Bound.Estimate(data, newV())
		if int64(got) > est {
			t.Fatalf("Unmarshal(%q) into %T allocated %d bytes, estimate %d (error: %v)", data, v, got, est, err)
		}
	})
}
