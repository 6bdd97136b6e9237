package tests

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
)

// Inner is nested in Rich.
type Inner struct {
	Name  string
	Score float64
	Tags  []string
}

// Rich is a packet every serializer carries: nested structs, slices, a
// time in UTC, a set and a nil pointer, unicode and characters that need
// escaping in XML and JSON.
type Rich struct {
	ID      uint64
	Count   int32
	Delta   int64
	Ratio   float64
	OK      bool
	Title   string
	Created time.Time
	Inner   Inner
	Items   []Inner
	Numbers []int
	Parent  *Inner
	Missing *Inner
}

// RichMaps adds maps and binary bytes, for the serializers that carry them
// (not XML).
type RichMaps struct {
	Rich   Rich
	Counts map[string]int
	ByName map[string]Inner
	Lists  map[string][]string
	Blob   []byte
}

// unicodeTitle has multi-byte runes, an emoji, markup and control
// characters that XML and JSON must escape.
const unicodeTitle = "Grüße, 世界! 🌍 <tag a=\"1\"> & 'q' \\ tab\there\nline2 ✓"

func newRich(i int) Rich {
	return Rich{
		ID:      uint64(1<<60) + uint64(i),
		Count:   int32(-i),
		Delta:   -1<<40 - int64(i),
		Ratio:   float64(i) + 0.125,
		OK:      i%2 == 0,
		Title:   fmt.Sprintf("%s #%d", unicodeTitle, i),
		Created: time.Date(2026, time.March, 14, 15, 9, 26, 535897000, time.UTC).Add(time.Duration(i) * time.Second),
		Inner:   Inner{Name: "inner ü", Score: 2.5, Tags: []string{"a", "b ß"}},
		Items: []Inner{
			{Name: "first", Score: 1, Tags: []string{"x"}},
			{Name: "second 二", Score: -1.5, Tags: []string{"y", "z"}},
		},
		Numbers: []int{3, 1, 4, 1, 5, -9, i},
		Parent:  &Inner{Name: "parent", Score: 9.75, Tags: []string{"p"}},
	}
}

func newRichMaps(i int) RichMaps {
	return RichMaps{
		Rich:   newRich(i),
		Counts: map[string]int{"one": 1, "zwölf": 12, "neg": -i},
		ByName: map[string]Inner{"k": {Name: "v", Score: 1, Tags: []string{"t"}}},
		Lists:  map[string][]string{"l": {"1", "2"}},
		Blob:   []byte{0, 1, 2, 0xfe, 0xff, byte(i)},
	}
}

// EchoRequest asks the peer to send Payload back.
type EchoRequest struct {
	netmessage.Returns[EchoResponse]
	Payload Rich
	Seq     int
}

type EchoResponse struct {
	Payload Rich
	Seq     int
	By      string
}

// MapEchoRequest asks the peer to send a RichMaps back.
type MapEchoRequest struct {
	netmessage.Returns[MapEchoResponse]
	Payload RichMaps
}

type MapEchoResponse struct {
	Payload RichMaps
	By      string
}

// Chain is answered by the peer asking Chain{Depth-1} back, until 0.
type Chain struct {
	netmessage.Returns[ChainResult]
	Depth int
	Trail []string
}

type ChainResult struct {
	Trail []string
}

// Tick is a burst message.
type Tick struct {
	N    int
	Text string
}

// Add is a request for the burst of concurrent requests.
type Add struct {
	netmessage.Returns[Sum]
	Worker, Seq int
	A, B        int
}

type Sum struct {
	Worker, Seq int
	Total       int
}

// Slow is answered when its handler is released or its context ends.
type Slow struct {
	netmessage.Returns[SlowDone]
	ID int
}

type SlowDone struct{ ID int }

// Fault fails as its Mode says.
type Fault struct {
	netmessage.Returns[FaultResult]
	Mode string
}

type FaultResult struct{ Mode string }

// Orphan and Stray have no handler anywhere.
type Orphan struct {
	netmessage.Returns[OrphanReply]
	X int
}

type OrphanReply struct{}

type Stray struct{ X int }

// Ping checks that a connection still works.
type Ping struct {
	netmessage.Returns[Pong]
	N int
}

type Pong struct{ N int }

// News is broadcast.
type News struct {
	Seq      int
	Headline string
}

// Probe is a message sent to find out whether an end still accepts sends.
type Probe struct{ N int }

// Handlers, registered on the Mux of either end.

func handlePing(r *netmessage.Mux) error {
	return netmessage.HandleRequest(r, func(_ context.Context, _ *base.Session, p Ping) (Pong, error) {
		return Pong{N: p.N}, nil
	})
}

func handleEcho(r *netmessage.Mux, by string, peers chan<- *base.Session) error {
	if err := netmessage.HandleRequest(r, func(_ context.Context, p *base.Session, req EchoRequest) (EchoResponse, error) {
		if peers != nil {
			peers <- p
		}
		return EchoResponse{Payload: req.Payload, Seq: req.Seq, By: by}, nil
	}); err != nil {
		return err
	}
	return netmessage.HandleRequest(r, func(_ context.Context, _ *base.Session, req MapEchoRequest) (MapEchoResponse, error) {
		return MapEchoResponse{Payload: req.Payload, By: by}, nil
	})
}

// handleChain answers Chain by asking the peer the next link from inside
// the handler, so requests nest across both ends.
func handleChain(r *netmessage.Mux, name string) error {
	return netmessage.HandleRequest(r, func(ctx context.Context, p *base.Session, c Chain) (ChainResult, error) {
		trail := append(c.Trail, fmt.Sprintf("%s@%d", name, c.Depth))
		if c.Depth == 0 {
			return ChainResult{Trail: trail}, nil
		}
		res, err := netmessage.Request(ctx, p, Chain{Depth: c.Depth - 1, Trail: trail})
		if err != nil {
			return ChainResult{}, fmt.Errorf("%s at depth %d: %w", name, c.Depth, err)
		}
		return res, nil
	})
}

func handleFault(r *netmessage.Mux) error {
	return netmessage.HandleRequest(r, func(_ context.Context, _ *base.Session, f Fault) (FaultResult, error) {
		switch f.Mode {
		case "error":
			return FaultResult{}, errors.New("deliberate failure: " + f.Mode)
		case "panic":
			panic("deliberate panic")
		}
		return FaultResult{Mode: f.Mode}, nil
	})
}

// handleSlow answers Slow once release is closed or the connection ends.
// started receives each request's id as its handler starts.
func handleSlow(r *netmessage.Mux, started chan<- int, release <-chan struct{}) error {
	return netmessage.HandleRequest(r, func(ctx context.Context, _ *base.Session, s Slow) (SlowDone, error) {
		started <- s.ID
		select {
		case <-release:
		case <-ctx.Done():
			return SlowDone{}, ctx.Err()
		}
		return SlowDone{ID: s.ID}, nil
	})
}

// packetTypes lists every packet type of the suite, for the type ids of
// the .NET profile.
var packetTypes = []any{
	Rich{}, RichMaps{}, EchoRequest{}, EchoResponse{}, MapEchoRequest{}, MapEchoResponse{},
	Chain{}, ChainResult{}, Tick{}, Add{}, Sum{}, Slow{}, SlowDone{}, Fault{}, FaultResult{},
	Orphan{}, OrphanReply{}, Stray{}, Ping{}, Pong{}, News{}, Probe{}, Bye{},
}
