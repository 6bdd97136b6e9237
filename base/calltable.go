package base

// callTable holds a session's pending requests by id. Ids are handed out
// in sequence, so they are spread evenly over the slots: a request lives
// in slot id mod len(slots), and an id whose slot is taken is skipped when
// ids are handed out (see Session.request). The table stays at most half
// full, so a lookup is one index and one comparison, with no hashing.
// Growing keeps every entry apart: two ids in different slots of a table
// are in different slots of one twice its size. It is guarded by the
// session's pmu.
type callTable struct {
	slots []*call // nil, or a power of two long
	n     int
}

// minCallSlots is the size of a table's first slots.
const minCallSlots = 16

// get returns the pending request id, or nil.
func (t *callTable) get(id uint32) *call {
	if len(t.slots) == 0 {
		return nil
	}
	c := t.slots[id&uint32(len(t.slots)-1)]
	if c == nil || c.id != id {
		return nil
	}
	return c
}

// taken reports whether id's slot holds a request, so that id cannot be
// handed out.
func (t *callTable) taken(id uint32) bool {
	return len(t.slots) != 0 && t.slots[id&uint32(len(t.slots)-1)] != nil
}

// reserve makes room for one more request, so that the next put keeps the
// table at most half full. It is called before an id is chosen.
func (t *callTable) reserve() {
	if 2*(t.n+1) <= len(t.slots) {
		return
	}
	slots := make([]*call, max(minCallSlots, 2*len(t.slots)))
	mask := uint32(len(slots) - 1)
	for _, c := range t.slots {
		if c != nil {
			slots[c.id&mask] = c
		}
	}
	t.slots = slots
}

// put adds c, whose id's slot is free (reserve, then taken, ensure it).
func (t *callTable) put(c *call) {
	t.slots[c.id&uint32(len(t.slots)-1)] = c
	t.n++
}

// remove takes c out if it is there.
func (t *callTable) remove(c *call) {
	if len(t.slots) == 0 {
		return
	}
	p := &t.slots[c.id&uint32(len(t.slots)-1)]
	if *p == c {
		*p = nil
		t.n--
	}
}

// each calls f for every pending request; f may remove it.
func (t *callTable) each(f func(*call)) {
	for _, c := range t.slots {
		if c != nil {
			f(c)
		}
	}
}
