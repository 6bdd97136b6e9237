package msgpack_test

import (
	"bytes"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	vmsgpack "github.com/vmihailenco/msgpack/v5"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
	"github.com/netmessage-go/netmessage/serializers/msgpack"
)

// The types below have the methods tinylib/msgp generates, written by
// hand (with the library) so that this module does not depend on it; each
// counts its calls. Their twins, without methods, take the reflective path.

var marshals, unmarshals atomic.Int64

// order is a type whose pointer has the methods, as msgp generates them
// for structs of more than three fields.
type order struct {
	ID    uint64
	Name  string
	Lines []line
	Tags  map[string]string
}

type line struct {
	SKU string
	Qty int32
}

// orderTwin is order without the methods.
type orderTwin order

func (o *order) MarshalMsg(b []byte) ([]byte, error) {
	marshals.Add(1)
	enc, err := vmsgpack.Marshal((*orderTwin)(o))
	return append(b, enc...), err
}

func (o *order) UnmarshalMsg(b []byte) ([]byte, error) {
	unmarshals.Add(1)
	r := bytes.NewReader(b)
	err := vmsgpack.NewDecoder(r).Decode((*orderTwin)(o))
	return b[len(b)-r.Len():], err
}

// pair has MarshalMsg on its value, as msgp generates it for small structs.
type pair struct{ A, B int }

type pairTwin pair

func (p pair) MarshalMsg(b []byte) ([]byte, error) {
	marshals.Add(1)
	enc, err := vmsgpack.Marshal(pairTwin(p))
	return append(b, enc...), err
}

func (p *pair) UnmarshalMsg(b []byte) ([]byte, error) {
	unmarshals.Add(1)
	r := bytes.NewReader(b)
	err := vmsgpack.NewDecoder(r).Decode((*pairTwin)(p))
	return b[len(b)-r.Len():], err
}

func newOrder() order {
	return order{ID: 1 << 40, Name: "coffee", Lines: []line{{"A-1", 2}, {"B-7", -1}}, Tags: map[string]string{"rush": "yes"}}
}

// calls returns how many times the methods ran during f.
func calls(f func()) (m, u int64) {
	m0, u0 := marshals.Load(), unmarshals.Load()
	f()
	return marshals.Load() - m0, unmarshals.Load() - u0
}

func TestGeneratedMethodsAreUsed(t *testing.T) {
	s := msgpack.New()
	o := newOrder()
	want, err := s.Marshal(orderTwin(o))
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{"value": o, "pointer": &o, "small value": pair{1, 2}, "small pointer": &pair{1, 2}} {
		var data []byte
		m, _ := calls(func() { data, err = s.MarshalAppend([]byte("x"), v) })
		if err != nil || m != 1 {
			t.Errorf("%s: MarshalAppend: %d calls of MarshalMsg, error %v", name, m, err)
		}
		if strings.HasPrefix(name, "small") {
			continue
		}
		if !bytes.Equal(data, append([]byte("x"), want...)) {
			t.Errorf("%s: MarshalAppend = %q, want %q", name, data, want)
		}
	}
	// Marshaling through a pooled copy leaves nothing of o behind: the
	// next value's encoding is its own.
	other := order{Name: "tea"}
	data, _ := s.Marshal(other)
	var got order
	if _, u := calls(func() { err = s.Unmarshal(data, &got) }); err != nil || u != 1 {
		t.Fatalf("Unmarshal: %d calls of UnmarshalMsg, error %v", u, err)
	}
	if got.Name != "tea" || got.Lines != nil || got.ID != 0 {
		t.Errorf("Unmarshal = %+v, want %+v", got, other)
	}
	// A nil pointer is nil on the wire, as the reflective path writes it.
	if m, _ := calls(func() { data, err = s.Marshal((*order)(nil)) }); err != nil || m != 0 || !bytes.Equal(data, []byte{0xc0}) {
		t.Errorf("Marshal(nil) = %q, %v with %d calls, want nil", data, err, m)
	}
}

// TestGeneratedMixes decodes, with reflection, what generated code wrote
// and the reverse.
func TestGeneratedMixes(t *testing.T) {
	s := msgpack.New()
	o := newOrder()
	data, err := s.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var twin orderTwin
	if err := s.Unmarshal(data, &twin); err != nil || !equalOrders(order(twin), o) {
		t.Errorf("generated to reflective: %+v, %v", twin, err)
	}
	data, err = s.Marshal(orderTwin(o))
	if err != nil {
		t.Fatal(err)
	}
	var back order
	if err := s.Unmarshal(data, &back); err != nil || !equalOrders(back, o) {
		t.Errorf("reflective to generated: %+v, %v", back, err)
	}
}

func equalOrders(a, b order) bool {
	ea, _ := vmsgpack.Marshal(orderTwin(a))
	eb, _ := vmsgpack.Marshal(orderTwin(b))
	return bytes.Equal(ea, eb)
}

// bigOrder is decoded by its own UnmarshalMsg, after the checks.
type bigOrder struct {
	Items []big `msg:"items"`
}

func (*bigOrder) UnmarshalMsg(b []byte) ([]byte, error) {
	unmarshals.Add(1)
	return nil, errors.New("not reached")
}

// TestGeneratedTypeBound: the decoded-size check and the framing checks
// run before a type's own UnmarshalMsg, which never sees what they refuse.
func TestGeneratedTypeBound(t *testing.T) {
	s := msgpack.New()
	nils := func(key string) []byte {
		return append([]byte("\x81"+key+"\xdd\x00\x10\x00\x00"), bytes.Repeat([]byte{0xc0}, 1<<20)...)
	}
	for name, c := range map[string]struct {
		data []byte
		want error
	}{
		"1M nil structs by Go name":  {nils("\xa5Items"), msgpack.ErrDecodeLimit},
		"1M nil structs by msg tag":  {nils("\xa5items"), msgpack.ErrDecodeLimit},
		"array32 of 4G elements":     {[]byte("\x81\xa5items\xdd\xff\xff\xff\xff"), nil},
		"trailing data":              {[]byte("\x80\xc0"), nil},
		"nested deeper than allowed": {bytes.Repeat([]byte("\x81\xa5items\x91"), 100), nil},
	} {
		var err error
		if _, u := calls(func() { err = s.Unmarshal(c.data, new(bigOrder)) }); u != 0 || err == nil {
			t.Errorf("%s: %d calls of UnmarshalMsg, error %v", name, u, err)
		}
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	// Negative integers in an interface are boxed by generated code.
	negs := append([]byte("\x81\xa1V\xdd\x00\x10\x00\x00"), bytes.Repeat([]byte{0xff}, 1<<20)...)
	if err := s.Unmarshal(negs, new(anyHolder)); !errors.Is(err, msgpack.ErrDecodeLimit) {
		t.Errorf("1M negative fixints into a generated []any: %v, want ErrDecodeLimit", err)
	}
	if err := s.Unmarshal(negs, new(anyHolderTwin)); err != nil {
		t.Errorf("1M negative fixints into a reflective []any: %v", err)
	}
}

type anyHolder struct{ V any }

type anyHolderTwin anyHolder

func (h *anyHolder) UnmarshalMsg(b []byte) ([]byte, error) {
	r := bytes.NewReader(b)
	err := vmsgpack.NewDecoder(r).Decode((*anyHolderTwin)(h))
	return b[len(b)-r.Len():], err
}

// shortRead is a type whose UnmarshalMsg leaves a byte it should read.
type shortRead struct{}

func (*shortRead) UnmarshalMsg(b []byte) ([]byte, error) { return b[1:], nil }

// selfBinary encodes itself for the library as binary; its msgp-shaped
// methods are not used, so that a reflective peer reads what it expects.
type selfBinary struct{ N int }

func (selfBinary) MarshalBinary() ([]byte, error)      { return []byte{1}, nil }
func (*selfBinary) UnmarshalBinary(b []byte) error     { return nil }
func (selfBinary) MarshalMsg(b []byte) ([]byte, error) { marshals.Add(1); return append(b, 0xc0), nil }
func (*selfBinary) UnmarshalMsg(b []byte) ([]byte, error) {
	unmarshals.Add(1)
	return b[1:], nil
}

// failingGen fails to encode itself.
type failingGen struct{}

func (failingGen) MarshalMsg(b []byte) ([]byte, error) {
	return append(b, "partial"...), errors.New("cannot encode")
}

func TestGeneratedEdges(t *testing.T) {
	s := msgpack.New()
	err := s.Unmarshal([]byte("\x82\xa1a\x01\xa1b\x02"), new(shortRead))
	sertest.WantError(t, "Unmarshal", err, sertest.MsgPack, []string{"trailing data"})

	var data []byte
	if m, u := calls(func() {
		data, err = s.Marshal(selfBinary{})
		if err == nil {
			err = s.Unmarshal(data, new(selfBinary))
		}
	}); m != 0 || u != 0 || err != nil || !bytes.Equal(data, []byte("\xc4\x01\x01")) {
		t.Errorf("self-encoding type: %q, %v; %d and %d calls of the msgp methods", data, err, m, u)
	}

	got, err := s.MarshalAppend([]byte("keep"), failingGen{})
	if err == nil || string(got) != "keep" || !strings.Contains(err.Error(), "cannot encode") {
		t.Errorf("MarshalAppend of a failing type = %q, %v", got, err)
	}
}
