package dotnetxml_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/serializers/dotnetxml"
	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
)

// Wide is a large class: an empty item of a list of Wide costs 16 strings.
type Wide struct{ A, B, C, D, E, F, G, H, I, J, K, L, M, N, O, P string }

// Lists holds lists of every kind of item.
type Lists struct {
	Wides  []Wide
	Ptrs   []*Wide
	Inners []Inner
	Names  []string
	Times  []time.Time
	Ids    []dotnetxml.Guid
	Levels []Level
	Blobs  [][]byte
	Nums   []int64
	Note   string
	Child  *Wide
}

// Chain nests a number.
type Chain struct {
	Name string
	N    int32
	Next *Chain
}

func newOf[T any]() func() any { return func() any { return new(T) } }

// text returns a payload builder for the concatenation of parts.
func text(parts ...string) func() []byte {
	return func() []byte { return []byte(strings.Join(parts, "")) }
}

func marshal(v any) func() []byte {
	return func() []byte {
		b, err := dotnetxml.New().Marshal(v)
		if err != nil {
			panic(err)
		}
		return b
	}
}

// TestDecodeBound decodes hostile and ordinary payloads in a child
// process: each decodes within 32 bytes per input byte plus the fixed
// heap, below the estimate, or is refused with ErrDecodeLimit.
func TestDecodeBound(t *testing.T) {
	n := sertest.Scale(200_000)
	rows := make([]Everything, 2000)
	for i := range rows {
		s := fmt.Sprint("null ", i)
		rows[i] = Everything{Text: fmt.Sprint("row ", i), NullText: &s, Int: int32(i), Long: int64(i) << 20, Double: float64(i) / 3,
			When: time.Date(2026, 1, 2, 3, 4, 5, 0, time.Local), WhenUtc: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			Level: High, Tags: []string{"alpha", "beta"}, Numbers: []int32{1, 2, 3}, Child: &Inner{Name: "kid", Value: 1},
			Children: []Inner{{"a", 2}, {"b", 3}}, Id: dotnetxml.NewGuid(), Blob: []byte("blob")}
	}
	inners := make([]Inner, 20000)
	for i := range inners {
		inners[i] = Inner{Name: fmt.Sprint("item-", i), Value: int32(i)}
	}
	lists := newOf[Lists]()
	cases := []sertest.Payload{
		{Name: "skipped empty elements", Data: text("<Lists>", strings.Repeat("<a/>", n), "</Lists>"), New: lists, Hostile: true},
		{Name: "skipped elements with text", Data: text("<Lists>", strings.Repeat("x<a></a>", n), "</Lists>"), New: lists, Hostile: true},
		{Name: "empty lists", Data: text("<Lists>", strings.Repeat("<Wides/>", n), "</Lists>"), New: lists, Hostile: true},
		{Name: "empty large items", Data: text("<Lists><Wides>", strings.Repeat("<Wide/>", n), "</Wides></Lists>"), New: lists, Hostile: true},
		{Name: "empty large items, truncated", Data: text("<Lists><Wides>", strings.Repeat("<Wide/>", n)), New: lists, Hostile: true},
		{Name: "empty pointers to large items", Data: text("<Lists><Ptrs>", strings.Repeat("<Wide/>", n), "</Ptrs></Lists>"), New: lists, Hostile: true},
		{Name: "empty pointer fields", Data: text("<Lists>", strings.Repeat("<Child/>", n), "</Lists>"), New: lists, Hostile: true},
		{Name: "empty small items", Data: text("<Lists><Inners>", strings.Repeat("<Inner/>", n), "</Inners></Lists>"), New: lists, Hostile: true},
		{Name: "empty strings", Data: text("<Lists><Names>", strings.Repeat("<string/>", n), "</Names></Lists>"), New: lists, Hostile: true},
		{Name: "short strings", Data: text("<Lists><Names>", strings.Repeat("<string>s</string>", n), "</Names></Lists>"), New: lists, Hostile: true},
		{Name: "empty times", Data: text("<Lists><Times>", strings.Repeat("<dateTime/>", n), "</Times></Lists>"), New: lists, Hostile: true},
		{Name: "times with offsets", Data: text("<Lists><Times>", strings.Repeat("<dateTime>2026-01-02T03:04:05+05:00</dateTime>", n/4), "</Times></Lists>"),
			New: lists, Hostile: true},
		{Name: "guids", Data: text("<Lists><Ids>", strings.Repeat("<guid>0f8fad5bd9cb469fa16570867728950e</guid>", n/4), "</Ids></Lists>"),
			New: lists, Hostile: true},
		{Name: "enums", Data: text("<Lists><Levels>", strings.Repeat("<Level>High</Level>", n), "</Levels></Lists>"), New: lists, Hostile: true},
		{Name: "blobs", Data: text("<Lists><Blobs>", strings.Repeat("<base64Binary>A A==</base64Binary>", n), "</Blobs></Lists>"), New: lists, Hostile: true},
		{Name: "numbers", Data: text("<Lists><Nums>", strings.Repeat("<long>1</long>", n), "</Nums></Lists>"), New: lists, Hostile: true},
		{Name: "attributes", Data: text("<Lists ", strings.Repeat("a=''", n), "/>"), New: lists, Hostile: true},
		{Name: "nil items", Data: text(`<Lists xmlns:xsi="x"><Ptrs>`, strings.Repeat(`<Wide xsi:nil="true"/>`, n), "</Ptrs></Lists>"), New: lists, Hostile: true},
		{Name: "text in pieces", Data: text("<Lists><Note>", strings.Repeat("a<!---->", n), "</Note></Lists>"), New: lists, Hostile: true},
		{Name: "a huge bad number", Data: text("<Lists><Nums><long>", strings.Repeat("\u0080", n), "</long></Nums></Lists>"), New: lists, Hostile: true},
		{Name: "a bad number deep down", Data: text("<Chain><Name>", strings.Repeat("x", 100_000), "</Name>", strings.Repeat("<Next>", 30),
			"<N>", strings.Repeat("\u0080", 1000), "</N>"), New: newOf[Chain](), Hostile: true, Want: []string{"invalid int"}},
		{Name: "a bad time after rows", Data: text(strings.TrimSuffix(string(marshal(rows[:500])()), "</ArrayOfEverything>"),
			"<Everything><When>", strings.Repeat("\u0080", 2000), "</When></Everything></ArrayOfEverything>"),
			New: newOf[[]Everything](), Hostile: true, Want: []string{"invalid dateTime"}},
		{Name: "a huge name closed by another", Data: text("<Lists><Note>", strings.Repeat("x", n), "</Note><", strings.Repeat("a", n), "></b></Lists>"),
			New: lists, Hostile: true, Want: []string{"closed by </b>"}},
		{Name: "a huge name deep down", Data: text("<Chain>", strings.Repeat("<Next>", 30), "<", strings.Repeat("a", n), "></b>"),
			New: newOf[Chain](), Hostile: true, Want: []string{"closed by </b>"}},
		{Name: "a huge entity deep down", Data: text("<Chain>", strings.Repeat("<Next>", 29), "<Name>&", strings.Repeat("a", n), "</Name>"),
			New: newOf[Chain](), Hostile: true, Want: []string{"invalid character entity"}},
		{Name: "a huge child of a number deep down", Data: text("<Chain>", strings.Repeat("<Next>", 29), "<N><", strings.Repeat("a", n), ">"),
			New: newOf[Chain](), Hostile: true, Want: []string{"unexpected child element"}},
		{Name: "32 nested elements", Data: text(strings.Repeat("<Node><Next>", 16), strings.Repeat("</Next></Node>", 16)), New: newOf[Node]()},
		{Name: "33 nested elements", Data: text("<Node>", strings.Repeat("<Next>", dotnetxml.MaxDepth)), New: newOf[Node](), Hostile: true,
			Want: []string{"elements nested deeper than 32"}},
		{Name: "ordinary: rows", Data: marshal(rows), New: newOf[[]Everything]()},
		{Name: "ordinary: 20000 small items", Data: marshal(inners), New: newOf[[]Inner]()},
		{Name: "ordinary: a long string", Data: marshal(strings.Repeat("text ", 100_000)), New: newOf[string]()},
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.xml"))
	for _, name := range files {
		into := map[string]func() any{"everything.xml": newOf[Everything](), "empty.xml": newOf[Everything](), "req.xml": newOf[EchoRequest](),
			"string.xml": newOf[string](), "int.xml": newOf[int32](), "lenient.xml": newOf[Everything]()}[filepath.Base(name)]
		if into == nil {
			continue
		}
		cases = append(cases, sertest.Payload{Name: "golden: " + filepath.Base(name), New: into, Data: func() []byte {
			b, err := os.ReadFile(name)
			if err != nil {
				panic(err)
			}
			return b
		}})
	}
	sertest.RunBounded(t, dotnetxml.New().Unmarshal, dotnetxml.Bound, cases)
}
