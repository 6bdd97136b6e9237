package netmessage_test

import (
	"testing"

	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/serializers/json"
)

func TestServerSerializer(t *testing.T) {
	srv, err := netmessage.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.Serializer().Name(); got != "msgpack" {
		t.Errorf("default serializer %q, want msgpack", got)
	}
	srv, err = netmessage.NewServer(netmessage.WithSerializer(json.New()))
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.Serializer().Name(); got != "json" {
		t.Errorf("serializer %q, want json", got)
	}
}
