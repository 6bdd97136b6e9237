package base

import "testing"

// TestCallTable hands out ids the way Session.request does, with some
// requests staying pending across several growths and wraps of the slots,
// and checks that every pending request is found by its id alone, that no
// two share a slot, and that removed ones are gone.
func TestCallTable(t *testing.T) {
	var (
		tab    callTable
		nextID uint32 = 1<<32 - 40 // wraps around zero on the way
		live          = map[uint32]*call{}
	)
	add := func() *call {
		tab.reserve()
		id := nextID
		for tab.taken(id) {
			id++
		}
		nextID = id + 1
		if live[id] != nil {
			t.Fatalf("id %d handed out while pending", id)
		}
		c := &call{id: id}
		tab.put(c)
		live[id] = c
		return c
	}
	check := func(when string) {
		t.Helper()
		if tab.n != len(live) {
			t.Fatalf("%s: table counts %d, want %d", when, tab.n, len(live))
		}
		if 2*tab.n > len(tab.slots) {
			t.Fatalf("%s: %d requests in %d slots: more than half full", when, tab.n, len(tab.slots))
		}
		for id, c := range live {
			if got := tab.get(id); got != c {
				t.Fatalf("%s: get(%d) = %v, want its request", when, id, got)
			}
			if got := tab.get(id + uint32(len(tab.slots))); got != nil {
				t.Fatalf("%s: get(%d), an id sharing the slot of %d, found a request", when, id+uint32(len(tab.slots)), id)
			}
		}
		seen := 0
		tab.each(func(*call) { seen++ })
		if seen != len(live) {
			t.Fatalf("%s: each visited %d, want %d", when, seen, len(live))
		}
	}
	// Long-lived requests, then many short ones around them.
	var long []*call
	for range 5 {
		long = append(long, add())
	}
	for round := range 200 {
		var short []*call
		for range round % 37 {
			short = append(short, add())
		}
		check("after adding")
		for _, c := range short {
			tab.remove(c)
			delete(live, c.id)
			if tab.get(c.id) != nil {
				t.Fatalf("request %d found after removal", c.id)
			}
		}
		tab.remove(&call{id: long[0].id}) // not the one in the slot: no effect
	}
	check("after the rounds")
	for _, c := range long {
		tab.remove(c)
		delete(live, c.id)
	}
	check("empty")
	if tab.taken(nextID) || tab.get(long[0].id) != nil {
		t.Fatal("an empty table reports a request")
	}
}
