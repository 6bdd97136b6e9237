module github.com/netmessage-go/netmessage/examples

go 1.26

require (
	github.com/netmessage-go/netmessage/base v0.0.0
	github.com/netmessage-go/netmessage/netmessage v0.0.0
	github.com/netmessage-go/netmessage/serializers v0.0.0
	go.uber.org/goleak v1.3.0
)

require (
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
)

// The examples build against the SDK in this repository, with or without
// the workspace (GOWORK=off).
replace (
	github.com/netmessage-go/netmessage/base => ../base
	github.com/netmessage-go/netmessage/netmessage => ../netmessage
	github.com/netmessage-go/netmessage/serializers => ../serializers
)
