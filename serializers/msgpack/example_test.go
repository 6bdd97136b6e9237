package msgpack_test

import (
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
