package netmessage_test

import (
	"testing"

	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/serializers/json"
)

func TestMuxSerializer(t *testing.T) {
	m, err := netmessage.NewMux()
	must(t, err)
	if got := m.Serializer().Name(); got != "msgpack" {
		t.Errorf("default serializer %q, want msgpack", got)
	}
	m, err = netmessage.NewMux(netmessage.WithSerializer(json.New()))
	must(t, err)
	if got := m.Serializer().Name(); got != "json" {
		t.Errorf("serializer %q, want json", got)
	}
}
