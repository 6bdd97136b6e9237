package json_test

import (
	"fmt"

	"github.com/netmessage-go/netmessage/serializers/json"
)

type Ping struct {
	Seq  int
	Msg  string
	Data []byte
}

func Example() {
	s := json.New()
	data, err := s.Marshal(Ping{Seq: 1, Msg: "hello\x00", Data: []byte{0, 4}})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(data))

	var p Ping
	if err := s.Unmarshal(data, &p); err != nil {
		panic(err)
	}
	fmt.Printf("%s %q %v\n", s.Name(), p.Msg, p.Data)
	// Output:
	// {"Seq":1,"Msg":"hello\u0000","Data":"AAQ="}
	// json "hello\x00" [0 4]
}
