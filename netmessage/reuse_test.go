package netmessage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
)

// Sparse leaves out its empty fields on the wire, so a value decoded into
// memory that still held an earlier value would show that value's fields.
type Sparse struct {
	netmessage.Returns[SparseEcho]
	N    int      `msgpack:",omitempty"`
	Tags []string `msgpack:",omitempty"`
	Data []byte   `msgpack:",omitempty"`
}

type SparseEcho struct {
	Got  Sparse
	Data []byte
	Text string
}

type SparseNote struct {
	N    int      `msgpack:",omitempty"`
	Tags []string `msgpack:",omitempty"`
}

// TestDecodedValuesAreFresh sends requests and messages that alternate
// between full and empty values: each handler must see exactly what was
// sent, and no earlier value's fields, though the layer reuses memory
// between decodes.
func TestDecodedValuesAreFresh(t *testing.T) {
	notes := make(chan SparseNote, 8)
	e := start(t, func(srv, _ *netmessage.Mux) {
		must(t, netmessage.HandleRequest(srv, func(_ context.Context, _ *base.Session, req Sparse) (SparseEcho, error) {
			return SparseEcho{Got: req}, nil
		}))
		must(t, netmessage.HandleMessage(srv, func(_ context.Context, _ *base.Session, n SparseNote) { notes <- n }))
	})
	sent := []Sparse{
		{N: 1, Tags: []string{"a", "b"}, Data: []byte("xyz")},
		{},
		{Tags: []string{"c"}},
		{N: 2},
		{},
	}
	for _, req := range sent {
		resp, err := netmessage.Request(ctx(t), e.client, req)
		must(t, err)
		if diff := cmp.Diff(req, resp.Got); diff != "" {
			t.Errorf("handler got a request other than sent (-sent +got):\n%s", diff)
		}
		must(t, netmessage.Send(ctx(t), e.client, SparseNote{N: req.N, Tags: req.Tags}))
		select {
		case n := <-notes:
			if diff := cmp.Diff(SparseNote{N: req.N, Tags: req.Tags}, n); diff != "" {
				t.Errorf("handler got a message other than sent (-sent +got):\n%s", diff)
			}
		case <-ctx(t).Done():
			t.Fatal("message not received")
		}
	}
}

// TestResponsesOwnTheirMemory keeps every response of a series of requests,
// whose bytes and strings differ, and checks that none changed when the
// later ones arrived: no response refers to a buffer reused for the next.
func TestResponsesOwnTheirMemory(t *testing.T) {
	var (
		mu   sync.Mutex
		kept [][]byte // request data the server handler holds on to
	)
	e := start(t, func(srv, _ *netmessage.Mux) {
		must(t, netmessage.HandleRequest(srv, func(_ context.Context, _ *base.Session, req Sparse) (SparseEcho, error) {
			mu.Lock()
			kept = append(kept, req.Data)
			mu.Unlock()
			return SparseEcho{Data: req.Data, Text: string(req.Data[:8])}, nil
		}))
	})
	const n = 20
	fill := func(i int) []byte { return bytes.Repeat([]byte{byte('a' + i)}, 1000+i*97) }
	var got []SparseEcho
	for i := range n {
		resp, err := netmessage.Request(ctx(t), e.client, Sparse{Data: fill(i)})
		must(t, err)
		got = append(got, resp)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, resp := range got {
		if want := fill(i); !bytes.Equal(resp.Data, want) || resp.Text != string(want[:8]) {
			t.Errorf("response %d changed: %d bytes starting %q, text %q", i, len(resp.Data), resp.Data[:min(8, len(resp.Data))], resp.Text)
		}
		if want := fill(i); !bytes.Equal(kept[i], want) {
			t.Errorf("request %d as the handler kept it changed: %s", i, fmt.Sprintf("%.8q", kept[i]))
		}
	}
}

// Kept is a request whose marshaling fails when Bad is set (see
// keepingSerializer), answered by a KeptReply that does the same.
type Kept struct {
	netmessage.Returns[KeptReply]
	N    int
	Text string
	Bad  bool
}

type KeptReply struct {
	N    int
	Text string
	Bad  bool
}

// keptError is the error of keepingSerializer: it holds the value it
// could not marshal.
type keptError struct{ V any }

func (e *keptError) Error() string { return fmt.Sprintf("refused %+v", e.V) }

// keepingSerializer is msgpack, except that it refuses a Kept or KeptReply
// with Bad set, with an error that keeps the value.
type keepingSerializer struct{ netmessage.Serializer }

func (s keepingSerializer) Marshal(v any) ([]byte, error) {
	if k, ok := v.(Kept); ok && k.Bad {
		return nil, &keptError{V: v}
	}
	if k, ok := v.(KeptReply); ok && k.Bad {
		return nil, &keptError{V: v}
	}
	return s.Serializer.Marshal(v)
}

// TestMarshalErrorKeepsItsValue: the typed layer hands requests and
// responses to the serializer in memory it reuses, but not after a failed
// Marshal, whose error may refer to the value: an error kept by the
// caller, or raised as an error event, still holds the refused value after
// later calls.
func TestMarshalErrorKeepsItsValue(t *testing.T) {
	m, err := netmessage.NewMux()
	must(t, err)
	ser := keepingSerializer{m.Serializer()}
	e := start(t, func(srv, _ *netmessage.Mux) {
		must(t, netmessage.HandleRequest(srv, func(_ context.Context, _ *base.Session, req Kept) (KeptReply, error) {
			return KeptReply{N: req.N, Text: req.Text, Bad: req.N < 0}, nil
		}))
	}, netmessage.WithSerializer(ser))

	refused := Kept{N: 1, Text: "refused here", Bad: true}
	_, callerErr := netmessage.Request(ctx(t), e.client, refused)
	_, err = netmessage.Request(ctx(t), e.client, Kept{N: -1, Text: "refused there"})
	var remote *netmessage.RemoteError
	if !errors.As(err, &remote) {
		t.Fatalf("request with a response the handler's end cannot marshal: %v", err)
	}
	var eventErr error
	select {
	case eventErr = <-e.errs:
	case <-ctx(t).Done():
		t.Fatal("no error event for the response not sent")
	}
	for i := range 50 { // calls that reuse the memory of successful ones
		text := fmt.Sprintf("later %d", i)
		resp, err := netmessage.Request(ctx(t), e.client, Kept{N: i, Text: text})
		must(t, err)
		if resp.N != i || resp.Text != text {
			t.Fatalf("response %+v to request %d", resp, i)
		}
	}
	for _, c := range []struct {
		name string
		err  error
		want any
	}{
		{"caller's error", callerErr, refused},
		{"error event", eventErr, KeptReply{N: -1, Text: "refused there", Bad: true}},
	} {
		var kept *keptError
		if !errors.As(c.err, &kept) {
			t.Errorf("%s: %v, want a *keptError", c.name, c.err)
			continue
		}
		if diff := cmp.Diff(c.want, kept.V); diff != "" {
			t.Errorf("%s: value changed after later calls (-refused +now):\n%s", c.name, diff)
		}
	}
}
