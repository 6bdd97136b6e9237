package interop

import (
	"errors"
	"strings"
	"testing"

	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/netmessage/dotnet"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// rawText is a serializer that writes a ChatMessage's text as is, so that
// a payload can hold the terminator.
type rawText struct{}

func (rawText) Marshal(v any) ([]byte, error) { return []byte(v.(ChatMessage).Text), nil }

func (rawText) Unmarshal(b []byte, v any) error {
	v.(*ChatMessage).Text = string(b)
	return nil
}

func (rawText) Name() string { return "rawtext" }

// TestTerminatorRefused: a payload holding 0x04 would corrupt the .NET
// stream, so sending it fails and the connection carries on.
func TestTerminatorRefused(t *testing.T) {
	s := startServer(t, serveWeather)
	c := s.connect(t, nil)
	err := netmessage.Send(testutil.Ctx(t), c.c, ChatMessage{Text: "a\x04b"})
	if err == nil || !strings.Contains(err.Error(), "character U+0004 at byte offset 1 is not allowed in XML 1.0") {
		t.Errorf("dotnetxml: got %v", err)
	}

	c2 := s.connect(t, nil, netmessage.WithSerializer(rawText{}))
	err = netmessage.Send(testutil.Ctx(t), c2.c, ChatMessage{Text: "a\x04b"})
	if !errors.Is(err, dotnet.ErrTerminator) {
		t.Errorf("raw text: got %v, want dotnet.ErrTerminator", err)
	}
	checkOtherSession(t, c)
	testutil.Must(t, netmessage.Send(testutil.Ctx(t), c2.c, ChatMessage{Text: "fine"}))
	s.ev.noErrors(t)
}
