package hostile

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/serializers/dotnetxml"
	"github.com/netmessage-go/netmessage/serializers/json"
	"github.com/netmessage-go/netmessage/serializers/msgpack"
	"github.com/netmessage-go/netmessage/serializers/xml"
	"github.com/netmessage-go/netmessage/tests/internal/testutil"
)

// Loose is a request with loosely typed fields, the target of the payload
// floods: a map of anything, a list of anything in a nested struct, and
// numbers.
type Loose struct {
	netmessage.Returns[Ack]
	Attrs map[string]any
	Inner LooseInner
	Nums  []int64
}

// LooseInner is Loose's nested struct.
type LooseInner struct{ Tags []any }

// NetMessageTypeID gives Loose a short id for hand-built payloads.
func (Loose) NetMessageTypeID() string { return looseID }

const looseID = "hostile.Loose"

// Per-session memory outside the server's budget (base's documented
// constants): what a session may hold for handlers without waiting for
// the budget, and the read buffer a session keeps without taking from it.
const (
	sessionAllowance = 256 << 10
	readAllowance    = 64 << 10
)

// inflight is the default of base.WithMaxInflightBytes for a typed server
// with default limits and serializer ser: the larger of 8 times the
// per-session limit and twice the count of one largest packet.
func inflight(ser netmessage.Serializer) int64 {
	perByte, fixed := 0, 0
	if b, ok := ser.(netmessage.DecodeBounder); ok {
		perByte, fixed = b.DecodeBound()
	}
	largest := int64(base.DefaultMaxPacketSize)*int64(1+perByte) + int64(fixed) + 64
	return max(8*int64(base.DefaultMaxQueuedBytes), 2*largest)
}

// bound is the documented worst case of memory held for input by a server
// with default limits and n sessions: its budget, and per session the
// allowance and a read buffer, plus one largest packet's read buffer being
// handed over (the transient the budget lets through).
func bound(ser netmessage.Serializer, sessions int) int64 {
	return inflight(ser) + int64(sessions)*(sessionAllowance+readAllowance) + 2*int64(base.DefaultMaxPacketSize)
}

// peakMeter samples the process's heap objects and goroutine stacks every
// millisecond and keeps the highest sum above the level it started at.
type peakMeter struct {
	stop  chan struct{}
	done  chan struct{}
	start uint64
	peak  uint64
}

var memSamples = []string{"/memory/classes/heap/objects:bytes", "/memory/classes/heap/stacks:bytes"}

func memNow(s []metrics.Sample) uint64 {
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64()
}

// meter starts a peakMeter after a collection, with the collector set to
// run often (so that the heap measured is close to what is live); both are
// undone when the test ends.
func meter(t *testing.T) *peakMeter {
	old := debug.SetGCPercent(5)
	runtime.GC()
	m := &peakMeter{stop: make(chan struct{}), done: make(chan struct{})}
	s := make([]metrics.Sample, len(memSamples))
	for i, n := range memSamples {
		s[i].Name = n
	}
	m.start = memNow(s)
	go func() {
		defer close(m.done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-tick.C:
			}
			if v := memNow(s); v > m.start && v-m.start > m.peak {
				m.peak = v - m.start
			}
		}
	}()
	t.Cleanup(func() {
		m.end()
		debug.SetGCPercent(old)
	})
	return m
}

// end stops the meter and returns the peak above the start.
func (m *peakMeter) end() uint64 {
	select {
	case <-m.stop:
	default:
		close(m.stop)
	}
	<-m.done
	return m.peak
}

// check reports the peak as a figure and fails the test when it passes
// limit (with a tenth more for the garbage the collector has not yet
// reclaimed, and 16 MiB for the test's own work).
func (m *peakMeter) check(t *testing.T, what string, limit int64) {
	t.Helper()
	peak := m.end()
	allowed := uint64(limit + limit/10 + 16<<20)
	t.Logf("figure: %s: peak %.1f MiB of heap and stacks above the start; documented bound %.1f MiB", what,
		float64(peak)/(1<<20), float64(limit)/(1<<20))
	if peak > allowed {
		t.Errorf("%s: peak %d bytes, over the bound %d (+10%% +16 MiB)", what, peak, limit)
	}
}

// pinger is a well-behaved client that sends small requests in a loop
// and keeps the slowest answer.
type pinger struct {
	stop    chan struct{}
	done    chan struct{}
	n       int
	slowest time.Duration
	err     error
}

func (h *healthy) ping() *pinger {
	p := &pinger{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for {
			select {
			case <-p.stop:
				return
			default:
			}
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), testutil.WaitTime)
			reply, err := netmessage.Request(ctx, h.c, Echo{Text: "ping"})
			cancel()
			if err == nil && reply.Text != "ping" {
				err = fmt.Errorf("echo answered %q", reply.Text)
			}
			if err != nil {
				p.err = err
				return
			}
			p.n++
			p.slowest = max(p.slowest, time.Since(start))
		}
	}()
	return p
}

// healthyLatency bounds the slowest answer the well-behaved client may see
// while the server is under attack, on a busy 2-core machine: 2 s, and
// 6 s with the race detector, which makes the attackers' decoding several
// times dearer on the same two cores; the figures show the real values.
var healthyLatency = func() time.Duration {
	if raceEnabled {
		return 6 * time.Second
	}
	return 2 * time.Second
}()

// end stops the pinger and checks that every request was answered, in time.
func (p *pinger) end(t *testing.T, what string) {
	t.Helper()
	close(p.stop)
	<-p.done
	t.Logf("figure: %s: healthy client: %d requests answered, slowest %v", what, p.n, p.slowest.Round(time.Millisecond))
	if p.err != nil {
		t.Fatalf("healthy client: %v", p.err)
	}
	if p.n == 0 {
		t.Fatal("healthy client: no request answered")
	}
	if p.slowest > healthyLatency {
		t.Errorf("healthy client: slowest answer %v, over %v", p.slowest, healthyLatency)
	}
}

// flood is a payload family: a body of about size bytes for a serializer.
type flood struct {
	name string
	id   string
	body func(size int) []byte
}

// repeat returns head, then item until the total is at least size, then
// tail.
func repeat(head, item, tail string, size int) []byte {
	n := max((size-len(head)-len(tail))/len(item), 1)
	return []byte(head + strings.Repeat(item, n) + tail)
}

// msgpackArray returns a msgpack array32 header of n elements.
func msgpackArray(n int) string {
	return string([]byte{0xdd, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

// msgpackFlood returns a Loose body whose field holds an array of n
// copies of item (msgpack bytes).
func msgpackFlood(field, item string, size int) []byte {
	n := (size - 16) / len(item)
	head := string([]byte{0x81, byte(0xa0 + len(field))}) + field + msgpackArray(n)
	return []byte(head + strings.Repeat(item, n))
}

// floodSets are the floods per serializer.
var floodSets = []struct {
	ser    netmessage.Serializer
	floods []flood
}{
	{msgpack.New(), []flood{
		// Each element a map of one entry: three bytes, a Go map of ~300.
		{"tiny maps in []any", looseID, func(n int) []byte {
			n = (n - 32) / 3
			head := "\x81\xa5Inner\x81\xa4Tags" + msgpackArray(n)
			return []byte(head + strings.Repeat("\x81\xa0\xc0", n))
		}},
		{"tiny maps in map[string]any", looseID, func(n int) []byte {
			n = (n - 32) / 3
			head := "\x81\xa5Attrs\x81\xa1a" + msgpackArray(n)
			return []byte(head + strings.Repeat("\x81\xa0\xc0", n))
		}},
		// Accepted: small ints, 16 bytes decoded per byte (the library
		// allocates the slice twice).
		{"small ints in []int64", looseID, func(n int) []byte { return msgpackFlood("Nums", "\x01", n) }},
	}},
	{json.New(), []flood{
		{"tiny objects in []any", looseID, func(n int) []byte { return repeat(`{"Inner":{"Tags":[`, `{"":0},`, `{}]}}`, n) }},
		{"tiny objects in map[string]any", looseID, func(n int) []byte { return repeat(`{"Attrs":{"a":[`, `{"":0},`, `{}]}}`, n) }},
		{"small ints in []int64", looseID, func(n int) []byte { return repeat(`{"Nums":[`, `1,`, `1]}`, n) }},
	}},
	{xml.New(), []flood{
		{"empty elements in []Item", targetID, func(n int) []byte { return repeat(`<Target>`, `<Items/>`, `</Target>`, n) }},
		{"small numbers in []Item", targetID, func(n int) []byte {
			return repeat(`<Target>`, `<Items><Qty>1</Qty></Items>`, `</Target>`, n)
		}},
	}},
	{dotnetxml.New(), []flood{
		{"empty elements in []Item", targetID, func(n int) []byte {
			return repeat(`<Target><Items>`, `<Item/>`, `</Items></Target>`, n)
		}},
	}},
}

// floodPayload is the size of a flood: the largest that fits in a packet,
// or a quarter of that under the race detector, which makes scanning and
// decoding several times slower (the bound is the same).
var floodPayload = func() int {
	if raceEnabled {
		return base.DefaultMaxPacketSize/4 - 1<<10
	}
	return base.DefaultMaxPacketSize - 1<<10
}()

// TestMemoryPayloadFloods sends, for each serializer and payload family,
// two 4 MiB requests on each of six connections at once: payloads built so
// that every few wire bytes decode into a container of hundreds (refused by
// the serializer's decode bound), or that decode to several times their
// size and are accepted (then counted, with their decode cost, against the
// server's budget). The peak of heap and stacks must stay within the
// documented bound, every request must be answered (an error for the
// refused ones), and a well-behaved client on the same server loses
// nothing and is answered within healthyLatency.
func TestMemoryPayloadFloods(t *testing.T) {
	if inChild(t) {
		return
	}
	for _, set := range floodSets {
		for _, f := range set.floods {
			t.Run(set.ser.Name()+"/"+f.name, func(t *testing.T) {
				s := startServer(t, netmessage.WithSerializer(set.ser))
				testutil.Must(t, netmessage.HandleRequest(s.mux, func(_ context.Context, _ *base.Session, q Loose) (Ack, error) {
					return Ack{Items: len(q.Nums) + len(q.Attrs) + len(q.Inner.Tags)}, nil
				}))
				h := s.connectHealthy(t, netmessage.WithSerializer(set.ser))
				const conns, each = 6, 2
				// Raw connections write one shared payload, so that the
				// attackers' own memory does not count in the peak.
				payload := typed(f.id, f.body(floodPayload))
				attackers := make([]*raw, conns)
				for i := range attackers {
					attackers[i], _ = s.dialRaw(t)
				}
				m := meter(t)
				p := h.ping()
				var wg sync.WaitGroup
				codes := make(chan string, conns*each)
				for _, r := range attackers {
					wg.Go(func() { r.flood(payload, each, codes) })
				}
				wg.Wait()
				p.end(t, t.Name())
				m.check(t, fmt.Sprintf("%s: %d connections x %d requests of %d bytes", t.Name(), conns, each, len(payload)), bound(set.ser, conns+1))
				close(codes)
				seen := map[string]int{}
				for c := range codes {
					seen[c]++
				}
				t.Logf("figure: %s: answers %v", t.Name(), seen)
				// Refused floods are answered as bad requests; accepted ones
				// are served a few at a time (each counts 1 + perByte times
				// its size against the budget), so some may reach the
				// attacker's deadline first: that is the back-pressure. On a
				// starved machine a flood session may wait for room longer
				// than its receive timeout: the server then closes it with
				// ErrInflightLimit, as documented, and its attacker's
				// request fails; any other close, or a failure without such
				// a close, is an error.
				cut := 0
				for c, n := range seen {
					switch {
					case c == "ok" || c == netmessage.CodeBadRequest.String() || strings.Contains(c, "timeout"):
					case strings.HasPrefix(c, "error: "):
						cut += n
					default:
						t.Errorf("flood request answered %q", c)
					}
				}
				var closes []closeEvent
				if cut > 0 {
					// The close is raised on the session's dispatcher, which
					// may run after the attacker saw the connection end.
					closes = append(closes, testutil.Recv(t, s.closed, "the close of a flood session cut by the in-flight limit"))
				}
			drain:
				for {
					select {
					case ev := <-s.closed:
						closes = append(closes, ev)
					default:
						break drain
					}
				}
				limited := 0
				for _, ev := range closes {
					if err := ev.s.Err(); !errors.Is(err, base.ErrInflightLimit) {
						t.Errorf("a flood session closed: %v", err)
					} else {
						limited++
					}
				}
				if cut > 0 {
					t.Logf("figure: %s: %d flood sessions closed waiting for room (%d requests failed)", t.Name(), limited, cut)
					if limited == 0 {
						t.Errorf("%d flood requests failed, and no session was closed by the in-flight limit", cut)
					}
				}
				drainErrors(s)
			})
		}
	}
}

// flood sends n requests with payload and reports each answer's code (or
// what ended the connection) on codes.
func (r *raw) flood(payload []byte, n int, codes chan<- string) {
	_ = r.conn.SetDeadline(time.Now().Add(2 * testutil.WaitTime))
	if _, err := r.conn.Write(preface); err != nil {
		codes <- "error: " + err.Error()
		return
	}
	for id := range n {
		if _, err := r.conn.Write(header(0x02, uint32(id+1), uint32(len(payload)), true)); err != nil {
			codes <- "error: " + err.Error()
			return
		}
		if _, err := r.conn.Write(payload); err != nil {
			codes <- "error: " + err.Error()
			return
		}
	}
	// Heartbeats from here until the test ends, as a live peer sends:
	// neither slow answers nor the wait for the other floods once these
	// are answered may let the receive timeout close a live peer.
	stop := make(chan struct{})
	beating := make(chan struct{})
	go func() {
		defer close(beating)
		tick := time.NewTicker(base.DefaultHeartbeatInterval / 2)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := r.conn.Write([]byte{0}); err != nil {
					return
				}
			}
		}
	}()
	r.t.Cleanup(func() { close(stop); <-beating })
	for range n {
		p, err := r.read()
		switch {
		case err != nil:
			codes <- "error: " + err.Error()
			return
		case len(p.Payload) > 0 && p.Payload[0] == 0:
			codes <- "ok"
		case len(p.Payload) > 0:
			codes <- netmessage.ErrorCode(p.Payload[0]).String()
		}
	}
}

// drainErrors empties the server's error events (refused payloads raise
// one each).
func drainErrors(s *server) {
	for {
		select {
		case <-s.errs:
		default:
			return
		}
	}
}

// nest returns a body nested depth levels deep for ser, in a Loose field
// (msgpack, json) or Target's items (xml).
func nest(ser netmessage.Serializer, depth int) []byte {
	switch ser.Name() {
	case "msgpack":
		return []byte("\x81\xa5Inner\x81\xa4Tags" + strings.Repeat("\x91", depth-2) + "\xc0")
	case "json":
		return []byte(`{"Inner":{"Tags":` + strings.Repeat("[", depth-2) + strings.Repeat("]", depth-2) + `}}`)
	}
	return []byte("<Target>" + strings.Repeat("<a>", depth-1) + strings.Repeat("</a>", depth-1) + "</Target>")
}

// TestMemoryDeepNesting sends, for each serializer, 128 requests at once
// on each of four connections, each nested as deep as the serializer
// allows (a few hundred bytes that grow the decoding goroutine's stack),
// and then requests one level deeper, which must be refused. The peak of
// heap and stacks must stay within the documented bound.
func TestMemoryDeepNesting(t *testing.T) {
	if inChild(t) {
		return
	}
	for _, ser := range []netmessage.Serializer{msgpack.New(), json.New(), xml.New(), dotnetxml.New()} {
		t.Run(ser.Name(), func(t *testing.T) {
			s := startServer(t, netmessage.WithSerializer(ser))
			testutil.Must(t, netmessage.HandleRequest(s.mux, func(_ context.Context, _ *base.Session, q Loose) (Ack, error) {
				return Ack{Items: len(q.Inner.Tags)}, nil
			}))
			h := s.connectHealthy(t, netmessage.WithSerializer(ser))
			id := looseID
			if strings.HasSuffix(ser.Name(), "xml") {
				id = targetID
			}
			depth := maxDepth(t, ser, id)
			const conns, each = 4, 128
			clients := make([]*base.Client, conns)
			for i := range clients {
				clients[i] = base.NewClient(native.New)
				testutil.Must(t, clients[i].Connect(testutil.Ctx(t), s.addr))
				testutil.CloseClient(t, clients[i], clients[i])
				testutil.Recv(t, s.opened, "nesting session opened")
			}
			m := meter(t)
			p := h.ping()
			var wg sync.WaitGroup
			failed := make(chan string, conns*each)
			for _, c := range clients {
				for range each {
					wg.Go(func() {
						resp, err := c.Request(testutil.Ctx(t), typed(id, nest(ser, depth)))
						if err != nil || len(resp) == 0 || resp[0] != 0 {
							failed <- fmt.Sprintf("%q, %v", resp, err)
						}
					})
				}
			}
			wg.Wait()
			p.end(t, t.Name())
			m.check(t, fmt.Sprintf("%s: %d connections x %d requests nested %d deep", t.Name(), conns, each, depth), bound(ser, conns+1))
			close(failed)
			for f := range failed {
				t.Fatalf("a request nested %d deep failed: %s", depth, f)
			}
			drainErrors(s)
		})
	}
}

// maxDepth finds the deepest nesting ser accepts for the type with id, up
// to 100000, and checks that one level more is refused.
func maxDepth(t *testing.T, ser netmessage.Serializer, id string) int {
	t.Helper()
	var target any = new(Loose)
	if id == targetID {
		target = new(Target)
	}
	ok := func(d int) bool { return ser.Unmarshal(nest(ser, d), target) == nil }
	lo, hi := 3, 100_000
	if !ok(lo) {
		t.Fatalf("%s refuses nesting %d deep", ser.Name(), lo)
	}
	if ok(hi) {
		t.Fatalf("%s accepts nesting %d deep", ser.Name(), hi)
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if ok(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	t.Logf("figure: %s: deepest accepted nesting %d", ser.Name(), lo)
	return lo
}

// TestMemoryPartialFrames opens 40 connections that each send all but the
// last byte of a largest packet and then fall silent, with default
// options. The server's budget holds their buffers (those that find no
// room wait, then close with ErrInflightLimit), the receive timeout closes
// the silent ones, the peak stays within the documented bound, and a
// well-behaved client goes on being answered meanwhile.
func TestMemoryPartialFrames(t *testing.T) {
	if inChild(t) {
		return
	}
	s := startServer(t)
	h := s.connectHealthy(t)
	const conns = 40 // more than the default budget holds
	whole := frame(t, base.KindRequest, 1, make([]byte, base.DefaultMaxPacketSize))
	part := append(append([]byte{}, preface...), whole[:len(whole)-1]...)
	m := meter(t)
	p := h.ping()
	var wg sync.WaitGroup
	for range conns {
		conn, err := net.DialTimeout("tcp", s.addr, testutil.WaitTime)
		testutil.Must(t, err)
		t.Cleanup(func() { conn.Close() })
		wg.Go(func() {
			// The write may stay unfinished: the server stops reading a
			// connection that waits for room, and closes it.
			_ = conn.SetWriteDeadline(time.Now().Add(testutil.WaitTime))
			_, _ = conn.Write(part)
		})
	}
	reasons := map[string]int{}
	for range conns {
		ev := testutil.Recv(t, s.closed, "an attacker's session closed")
		reason := ev.reason.String()
		if err := ev.s.Err(); errors.Is(err, base.ErrInflightLimit) {
			reason += " (in-flight limit)"
		}
		reasons[reason]++
	}
	wg.Wait()
	p.end(t, t.Name())
	m.check(t, fmt.Sprintf("%s: %d connections each holding all but 1 byte of a %d-byte frame", t.Name(), conns, len(whole)), bound(msgpack.New(), conns+1))
	t.Logf("figure: %s: sessions closed: %v", t.Name(), reasons)
	for r := range reasons {
		if !strings.HasPrefix(r, base.ReasonConnectionLost.String()) {
			t.Errorf("an attacker's session closed with %s, want connection lost", r)
		}
	}
	h.check(t)
	drainErrors(s)
}
