package msgpack_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/netmessage-go/netmessage/serializers/internal/sertest"
	"github.com/netmessage-go/netmessage/serializers/msgpack"
)

func TestRoundTripStructsAsArrays(t *testing.T) {
	sertest.RoundTrip(t, msgpack.New(msgpack.StructsAsArrays()), sertest.MsgPack)
}

func TestRoundTripCompactIntegers(t *testing.T) {
	sertest.RoundTrip(t, msgpack.New(msgpack.CompactIntegers()), sertest.MsgPack)
}

func TestRoundTripAllOptions(t *testing.T) {
	sertest.RoundTrip(t, msgpack.New(msgpack.StructsAsArrays(), msgpack.CompactIntegers()), sertest.MsgPack)
}

// TestOptionsOnTheWire pins what each option writes and what a default
// Serializer makes of it.
func TestOptionsOnTheWire(t *testing.T) {
	type point struct {
		X uint64
		Y int8
	}
	in := point{X: 5, Y: -1}
	for _, c := range []struct {
		name string
		s    msgpack.Serializer
		want string
	}{
		{"default", msgpack.New(), "\x82\xa1X\xcf\x00\x00\x00\x00\x00\x00\x00\x05\xa1Y\xd0\xff"},
		{"structs as arrays", msgpack.New(msgpack.StructsAsArrays()), "\x92\xcf\x00\x00\x00\x00\x00\x00\x00\x05\xd0\xff"},
		{"compact integers", msgpack.New(msgpack.CompactIntegers()), "\x82\xa1X\x05\xa1Y\xff"},
		{"both", msgpack.New(msgpack.StructsAsArrays(), msgpack.CompactIntegers()), "\x92\x05\xff"},
	} {
		data, err := c.s.Marshal(in)
		if err != nil || !bytes.Equal(data, []byte(c.want)) {
			t.Errorf("%s: Marshal = %q, %v; want %q", c.name, data, err, c.want)
			continue
		}
		var out point
		if err := msgpack.New().Unmarshal(data, &out); err != nil || out != in {
			t.Errorf("%s: a default Serializer decodes %+v, %v", c.name, out, err)
		}
	}
	// A struct read from an array must have as many fields.
	data, _ := msgpack.New(msgpack.StructsAsArrays()).Marshal(in)
	var wider struct{ X, Y, Z int }
	if err := msgpack.New().Unmarshal(data, &wider); err == nil {
		t.Errorf("an array of 2 values decoded into a struct of 3 fields: %+v", wider)
	}
}

func ExampleStructsAsArrays() {
	type point struct{ X, Y int }
	data, err := msgpack.New(msgpack.StructsAsArrays()).Marshal(point{X: 1, Y: 2})
	if err != nil {
		panic(err)
	}
	var p point
	if err := msgpack.New().Unmarshal(data, &p); err != nil {
		panic(err)
	}
	fmt.Printf("%x %+v\n", data, p)
	// Output:
	// 920102 {X:1 Y:2}
}

func ExampleCompactIntegers() {
	type packet struct{ ID uint64 }
	long, _ := msgpack.New().Marshal(packet{ID: 7})
	short, err := msgpack.New(msgpack.CompactIntegers()).Marshal(packet{ID: 7})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%x\n%x\n", long, short)
	// Output:
	// 81a24944cf0000000000000007
	// 81a2494407
}
