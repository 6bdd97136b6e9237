package genpacket_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/netmessage-go/netmessage/serializers/msgpack"
	"github.com/netmessage-go/netmessage/tests/bench/genpacket"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// kindsTwin has Kinds' fields and tags but no methods: the msgpack
// serializer encodes and decodes it with reflection.
type kindsTwin genpacket.Kinds

// The types take the generated path or not, as the mixed tests assume.
var (
	_ msgpack.MsgMarshaler   = (*genpacket.Kinds)(nil)
	_ msgpack.MsgUnmarshaler = (*genpacket.Kinds)(nil)
	_ msgpack.MsgMarshaler   = (*genpacket.Call)(nil)
	_ msgpack.MsgUnmarshaler = (*genpacket.Reply)(nil)
)

// wideInt needs more than 32 bits. It is a variable so that the file
// compiles where int has 32 bits (where it, and its shift, are cut to 0).
var wideInt = int64(-1) << 40

func kindsCases() map[string]genpacket.Kinds {
	full := genpacket.Kinds{
		Int: int(wideInt), Int8: -128, Int32: 1 << 30, Int64: -5, Uint8: 255, Uint16: 65535, Uint64: 1<<64 - 1,
		Float32: 1.5, Float64: -0.1, Bool: true, String: "héllo\x00", Bytes: []byte{0, 1, 2},
		Strings: []string{"a", ""}, Ints: []int64{1, -1, 1 << 50}, Map: map[string]int32{"x": 1, "y": -2},
		Nested: genpacket.Inner{Name: "in", N: 7}, Ptr: &genpacket.Inner{Name: "p", N: -7},
		List: []genpacket.Inner{{Name: "l0"}, {N: 3}}, Array: [2]int32{1, -1},
		When:    time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC),
		Renamed: "renamed", Omitted: "kept",
	}
	empty := genpacket.Kinds{Bytes: []byte{}, Strings: []string{}, Ints: []int64{}, Map: map[string]int32{}, List: []genpacket.Inner{}}
	far := genpacket.Kinds{When: time.Date(2500, 6, 7, 8, 9, 10, 11, time.UTC), Int: int(wideInt << 22), Float64: 1e300}
	small := genpacket.Kinds{When: time.Unix(1, 0).UTC(), Int: 5, Uint64: 5, Int64: -1}
	return map[string]genpacket.Kinds{"zero": {}, "full": full, "empty, not nil": empty, "far time, large numbers": far, "small numbers": small}
}

// same reports whether a and b hold the same values; times are compared
// as instants (the decoders set their location), and Skipped is not sent.
func same(a, b genpacket.Kinds) bool {
	if !a.When.Equal(b.When) {
		return false
	}
	a.When, b.When, a.Skipped, b.Skipped = time.Time{}, time.Time{}, "", ""
	return reflect.DeepEqual(a, b)
}

// TestGeneratedAndReflectiveMix encodes each case on one path and decodes
// it on the other, both ways, and on the same path.
func TestGeneratedAndReflectiveMix(t *testing.T) {
	if _, ok := any(new(kindsTwin)).(msgpack.MsgUnmarshaler); ok {
		t.Fatal("kindsTwin has generated methods")
	}
	s := msgpack.New()
	for name, in := range kindsCases() {
		in.Skipped = "not sent"
		gen, err := s.Marshal(in)
		if err != nil {
			t.Fatalf("%s: generated Marshal: %v", name, err)
		}
		refl, err := s.Marshal(kindsTwin(in))
		if err != nil {
			t.Fatalf("%s: reflective Marshal: %v", name, err)
		}
		if bytes.Equal(gen, refl) {
			t.Logf("%s: the same %d bytes on both paths", name, len(gen))
		} else {
			t.Logf("%s: %d bytes generated, %d reflective (integer widths differ)", name, len(gen), len(refl))
		}
		for _, c := range []struct {
			dir  string
			data []byte
			into func() (genpacket.Kinds, error)
		}{
			{"generated to reflective", gen, func() (genpacket.Kinds, error) {
				var out kindsTwin
				err := s.Unmarshal(gen, &out)
				return genpacket.Kinds(out), err
			}},
			{"reflective to generated", refl, func() (genpacket.Kinds, error) {
				var out genpacket.Kinds
				err := s.Unmarshal(refl, &out)
				return out, err
			}},
			{"generated to generated", gen, func() (genpacket.Kinds, error) {
				var out genpacket.Kinds
				err := s.Unmarshal(gen, &out)
				return out, err
			}},
		} {
			out, err := c.into()
			in.Skipped = ""
			if err != nil || !same(out, in) {
				t.Errorf("%s, %s: %v\n got %+v\nwant %+v", name, c.dir, err, out, in)
			}
		}
	}
}

// TestGeneratedPacketsMatchReflective: the benchmark's generated packets
// and their reflective twins read each other's bytes.
func TestGeneratedPacketsMatchReflective(t *testing.T) {
	type twin genpacket.Packet
	s := msgpack.New()
	in := genpacket.Call{Packet: genpacket.Packet{ID: 1, Method: "m", Seq: 2, OK: true, Score: 0.5, Tags: []string{"a"}, Data: []byte("d")}}
	data, err := s.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out twin
	if err := s.Unmarshal(data, &out); err != nil || !reflect.DeepEqual(genpacket.Packet(out), in.Packet) {
		t.Errorf("generated call to reflective packet: %+v, %v", out, err)
	}
	data, err = s.Marshal(twin(in.Packet))
	if err != nil {
		t.Fatal(err)
	}
	var reply genpacket.Reply
	if err := s.Unmarshal(data, &reply); err != nil || !reflect.DeepEqual(reply.Packet, in.Packet) {
		t.Errorf("reflective packet to generated reply: %+v, %v", reply, err)
	}
}

// TestGeneratedHostileRefused: the serializer's checks run before the
// generated UnmarshalMsg, which on its own would allocate from the
// declared lengths.
func TestGeneratedHostileRefused(t *testing.T) {
	const n = 1 << 20
	empties := binary.BigEndian.AppendUint32([]byte("\x81\xa4List\xdd"), n)
	empties = append(empties, bytes.Repeat([]byte{0x80}, n)...)
	s := msgpack.New()
	if err := s.Unmarshal(empties, new(genpacket.Kinds)); !errors.Is(err, msgpack.ErrDecodeLimit) {
		t.Errorf("1M empty structs into a generated type: %v, want ErrDecodeLimit", err)
	}
	huge := []byte("\x81\xa4List\xdd\xff\xff\xff\xff")
	if err := s.Unmarshal(huge, new(genpacket.Kinds)); err == nil {
		t.Error("a 4G-element array header into a generated type: no error")
	}
	// What the check prevents: the generated code alone allocates 24
	// bytes per input byte, over the bound of 16.
	var ms0, ms1 runtimeMem
	ms0.read()
	var k genpacket.Kinds
	if _, err := k.UnmarshalMsg(empties); err != nil {
		t.Fatal(err)
	}
	ms1.read()
	if per := float64(ms1.total-ms0.total) / float64(len(empties)); per < 16 {
		t.Errorf("generated code alone: %.1f bytes per input byte, expected over 16", per)
	}
}
