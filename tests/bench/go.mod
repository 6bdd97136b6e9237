module github.com/netmessage-go/netmessage/tests/bench

go 1.26

require (
	github.com/netmessage-go/netmessage/base v0.0.0
	github.com/netmessage-go/netmessage/netmessage v0.0.0
	github.com/netmessage-go/netmessage/serializers v0.0.0
	github.com/tinylib/msgp v1.6.5
	go.uber.org/goleak v1.3.0
	google.golang.org/grpc v1.84.0
)

require (
	github.com/philhofer/fwd v1.2.0 // indirect
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
	golang.org/x/net v0.57.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.40.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260706201446-f0a921348800 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
)

replace (
	github.com/netmessage-go/netmessage/base => ../../base
	github.com/netmessage-go/netmessage/netmessage => ../../netmessage
	github.com/netmessage-go/netmessage/serializers => ../../serializers
)
