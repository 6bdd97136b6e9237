module github.com/netmessage-go/netmessage/base

go 1.26

require go.uber.org/goleak v1.3.0
