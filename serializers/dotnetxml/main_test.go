package dotnetxml_test

import (
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/netmessage-go/netmessage/serializers/dotnetxml"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The C# types of the captures (namespace Interop), in Go.

// Level is the C# enum Level { Low, High }.
type Level int

const (
	Low Level = iota
	High
)

var levelNames = [...]string{Low: "Low", High: "High"}

func (l Level) String() string {
	if l >= 0 && int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

func (l *Level) UnmarshalText(b []byte) error {
	for i, n := range levelNames {
		if n == string(b) {
			*l = Level(i)
			return nil
		}
	}
	return fmt.Errorf("unknown Level %q", b)
}

type Inner struct {
	Name  string
	Value int32
}

type Everything struct {
	Text     string
	NullText *string
	Int      int32
	Long     int64
	Double   float64
	Flag     bool
	When     time.Time
	WhenUtc  time.Time
	Level    Level
	Tags     []string
	Numbers  []int32
	Child    *Inner
	Children []Inner
	Id       dotnetxml.Guid
	Blob     []byte
}

type EchoRequest struct {
	Payload *Everything
}
