package hubspottest_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

// TestWalkPastCap shows the sandbox supports the walk the client does: restart
// from the last timestamp at the 10,000 cap and split a 12,000-record block of one
// millisecond by hs_object_id, over 100,000 contacts with 25,000 changed.
func TestWalkPastCap(t *testing.T) {
	clk := newClock(t0)
	s := hubspottest.NewTestServer(t, hubspottest.Options{Clock: clk.Now, SearchPerSecond: -1, PerTenSeconds: -1, Daily: -1})
	ids := s.SeedContacts(100000, nil)
	clk.Advance(time.Hour)
	changed := map[string]bool{}
	s.BulkEdit("contacts", ids[50000:62000], map[string]string{"lifecyclestage": "lead"})
	for _, id := range ids[50000:62000] {
		changed[id] = true
	}
	for _, id := range ids[10000:23000] {
		clk.Advance(time.Millisecond)
		s.Update("contacts", id, map[string]string{"firstname": "x"})
		changed[id] = true
	}

	seen := map[string]int{}
	requests := 0
	page := func(groups [][]map[string]any, sortProp, after string) searchPage {
		t.Helper()
		requests++
		r := call(t, s, "POST", "/crm/v3/objects/contacts/search", search(groups, sortProp, "ASCENDING", 200, after, "email"))
		wantStatus(t, r, 200)
		var p searchPage
		r.json(t, &p)
		return p
	}
	ms := func(rec wireRecord) int64 {
		return mustTime(t, val(rec.Properties["lastmodifieddate"])).UnixMilli()
	}
	// block reads every record modified at ts with id > afterID.
	block := func(ts int64, afterID string) {
		for {
			groups := [][]map[string]any{{filter("lastmodifieddate", "EQ", strconv.FormatInt(ts, 10)), filter("hs_object_id", "GT", afterID)}}
			after := ""
			for {
				p := page(groups, "hs_object_id", after)
				for _, rec := range p.Results {
					seen[rec.ID]++
					afterID = rec.ID
				}
				if p.Paging == nil {
					return
				}
				if after = p.Paging.Next.After; after == "10000" {
					break // restart from the last id
				}
			}
		}
	}
	since := t0.Add(30 * time.Minute).UnixMilli()
	for done := false; !done; {
		after := ""
		var lastTs int64
		var lastID string
		for {
			p := page([][]map[string]any{{filter("lastmodifieddate", "GTE", strconv.FormatInt(since, 10))}}, "lastmodifieddate", after)
			for _, rec := range p.Results {
				seen[rec.ID]++
				lastTs, lastID = ms(rec), rec.ID
			}
			if p.Paging == nil {
				done = true
				break
			}
			if after = p.Paging.Next.After; after == "10000" {
				// Finish the last timestamp's block by id, then go on after it.
				block(lastTs, lastID)
				since = lastTs + 1
				break
			}
		}
	}
	for id := range changed {
		if seen[id] != 1 {
			t.Fatalf("record %s seen %d times", id, seen[id])
		}
	}
	if len(seen) != len(changed) {
		t.Errorf("seen %d records, want %d", len(seen), len(changed))
	}
	if min := len(changed)/200 + 1; requests > min+min/20 {
		t.Errorf("requests: got %d, minimum %d", requests, min)
	}
}

func mustTime(t *testing.T, v string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		t.Fatalf("parse %q: %v", v, err)
	}
	return tm
}
