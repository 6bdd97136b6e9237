package genpacket

import "time"

//go:generate go run github.com/tinylib/msgp@v1.6.5 -file kinds.go -o kinds_gen.go -tests=false -io=false

//msgp:tag msgpack
//msgp:newtime

// Kinds has a field of each kind whose encoding the generated and the
// reflective paths must agree on.
type Kinds struct {
	Int     int
	Int8    int8
	Int32   int32
	Int64   int64
	Uint8   uint8
	Uint16  uint16
	Uint64  uint64
	Float32 float32
	Float64 float64
	Bool    bool
	String  string
	Bytes   []byte           `msgpack:",allownil"`
	Strings []string         `msgpack:",allownil"`
	Ints    []int64          `msgpack:",allownil"`
	Map     map[string]int32 `msgpack:",allownil"`
	Nested  Inner
	Ptr     *Inner
	List    []Inner `msgpack:",allownil"`
	Array   [2]int32
	When    time.Time
	Renamed string `msgpack:"renamed"`
	Omitted string `msgpack:",omitempty"`
	Skipped string `msgpack:"-"`
}

// Inner is a nested struct.
type Inner struct {
	Name string
	N    int32
}
