package inbound

import (
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/store"
)

// TestArchivedRecordSkipsOnlyItself: an archived record on a page is not
// linked or written, and the records after it on the same page still are.
func TestArchivedRecordSkipsOnlyItself(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{"1001", "1002", "1003"} { // one page of three
		e.contact(id, now0.Add(-time.Hour))
	}
	e.hs.mu.Lock()
	e.hs.recs["contacts"]["1001"].Archived = true
	e.hs.mu.Unlock()
	rep := e.run(t, ModeFull)
	if !rep.Complete {
		t.Fatalf("report %+v", rep)
	}
	got := e.up.written()
	if len(got["u1001"]) != 0 || len(got["u1002"]) != 1 || len(got["u1003"]) != 1 {
		t.Errorf("written %v, want u1002 and u1003, not the archived u1001", got)
	}
	if p := e.st.get(store.KindUser, "u1001"); p == nil || p.HubSpotID != "" {
		t.Errorf("u1001 %+v, want left unlinked", p)
	}
}
