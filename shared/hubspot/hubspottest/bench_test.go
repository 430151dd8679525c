package hubspottest_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

// BenchmarkSearchPage measures one search page over 100,000 contacts with 25,000 changed.
func BenchmarkSearchPage(b *testing.B) {
	clk := newClock(t0)
	s := hubspottest.NewTestServer(b, hubspottest.Options{Clock: clk.Now, SearchPerSecond: -1, PerTenSeconds: -1, Daily: -1})
	ids := s.SeedContacts(100000, nil)
	clk.Advance(time.Hour)
	s.BulkEdit("contacts", ids[:12000], map[string]string{"lifecyclestage": "lead"})
	for _, id := range ids[12000:25000] {
		clk.Advance(time.Millisecond)
		s.Update("contacts", id, map[string]string{"firstname": "x"})
	}
	body := search([][]map[string]any{{filter("lastmodifieddate", "GTE", strconv.FormatInt(t0.Add(30*time.Minute).UnixMilli(), 10))}}, "lastmodifieddate", "ASCENDING", 200, "", "email")
	b.ResetTimer()
	for range b.N {
		r := callB(b, s, body)
		if r != 200 {
			b.Fatal(r)
		}
	}
}

// BenchmarkSeed100k measures seeding 100,000 contacts.
func BenchmarkSeed100k(b *testing.B) {
	for range b.N {
		s := hubspottest.New(hubspottest.Options{})
		s.SeedContacts(100000, nil)
	}
}
