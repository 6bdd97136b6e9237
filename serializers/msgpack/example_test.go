package msgpack_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/netmessage-go/netmessage/serializers/msgpack"
)

type Ping struct {
	Seq  int
	Sent time.Time
}

func Example() {
	s := msgpack.New()
	sent := time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)
	data, err := s.Marshal(Ping{Seq: 1, Sent: sent})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%x\n", data)

	var p Ping
	if err := s.Unmarshal(data, &p); err != nil {
		panic(err)
	}
	fmt.Println(s.Name(), p.Seq, p.Sent.Equal(sent), p.Sent.UTC())
	// Output:
	// 82a353657101a453656e74d7ff0000001865937d25
	// msgpack 1 true 2024-01-02 03:04:05.000000006 +0000 UTC
}

// Temperature has the methods tinylib/msgp generates, written out here by
// hand for temperatures from 0 to 127: a map with one key, "C".
type Temperature struct{ C int }

// MarshalMsg appends {"C": t.C}, with C a positive fixint.
func (t Temperature) MarshalMsg(b []byte) ([]byte, error) {
	if t.C < 0 || t.C > 0x7f {
		return b, errors.New("temperature out of range")
	}
	return append(b, 0x81, 0xa1, 'C', byte(t.C)), nil
}

// UnmarshalMsg reads what MarshalMsg writes and returns the rest of b.
func (t *Temperature) UnmarshalMsg(b []byte) ([]byte, error) {
	if len(b) < 4 || b[0] != 0x81 || b[1] != 0xa1 || b[2] != 'C' || b[3] > 0x7f {
		return b, errors.New("not a temperature")
	}
	t.C = int(b[3])
	return b[4:], nil
}

// A type with generated methods is encoded by them; the bytes are those
// the reflective path writes for the same fields.
func ExampleMsgMarshaler() {
	s := msgpack.New()
	data, err := s.Marshal(Temperature{C: 21})
	if err != nil {
		panic(err)
	}
	reflective, err := s.Marshal(struct{ C int }{C: 21})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%x %x\n", data, reflective)
	// Output:
	// 81a14315 81a14315
}

// A type with generated methods decodes, after the serializer's checks of
// the input, what the reflective path wrote.
func ExampleMsgUnmarshaler() {
	s := msgpack.New()
	data, err := s.Marshal(struct{ C int }{C: 21})
	if err != nil {
		panic(err)
	}
	var t Temperature
	if err := s.Unmarshal(data, &t); err != nil {
		panic(err)
	}
	fmt.Println(t.C)
	// Output:
	// 21
}
