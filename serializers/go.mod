module github.com/netmessage-go/netmessage/serializers

go 1.26

require (
	github.com/google/go-cmp v0.7.0
	github.com/vmihailenco/msgpack/v5 v5.4.1
	github.com/vmihailenco/tagparser/v2 v2.0.0
	go.uber.org/goleak v1.3.0
)
