package netmessage_test

import (
	"bytes"
	"context"
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
