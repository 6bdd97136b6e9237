package xml_test

import (
	"fmt"

	"github.com/netmessage-go/netmessage/serializers/xml"
)

type Ping struct {
	Seq int
	Msg string
}

func Example() {
	s := xml.New()
	data, err := s.Marshal(Ping{Seq: 1, Msg: "hello"})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(data))

	var p Ping
	if err := s.Unmarshal(data, &p); err != nil {
		panic(err)
	}
	fmt.Printf("%s %+v\n", s.Name(), p)
	// Output:
	// <Ping><Seq>1</Seq><Msg>hello</Msg></Ping>
	// xml {Seq:1 Msg:hello}
}

type Stats struct {
	Counts map[string]int
}

func Example_unsupported() {
	s := xml.New()
	_, err := s.Marshal(Stats{Counts: map[string]int{"a": 1}})
	fmt.Println(err)
	_, err = s.Marshal(Ping{Msg: "nul\x00"})
	fmt.Println(err)
	// Output:
	// xml: marshal xml_test.Stats: field Counts (map[string]int): XML has no representation for Go maps; use a slice of key/value structs
	// xml: marshal xml_test.Ping: field Msg (string): character U+0000 at byte offset 3 is not allowed in XML 1.0 (encoding/xml would replace it with U+FFFD)
}
