package hubspot_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

// tieSizes are the sizes of the smaller same-millisecond blocks in seedTies: single records,
// pairs, blocks just under, at and over a search page (200), and a few pages long.
var tieSizes = []int{1, 1, 2, 3, 1, 7, 40, 1, 199, 200, 201, 1, 2, 350, 1, 650, 5, 1, 120, 3}

// seedTies seeds total contacts: a block of blockSize sharing one millisecond in the middle,
// the rest in same-millisecond blocks cycling through tieSizes, one millisecond apart. Block
// membership is interleaved with id order so no block is a contiguous id range. It returns
// the ids and the last seeded timestamp.
func seedTies(sb *hubspottest.Server, base time.Time, total, blockSize int) ([]string, time.Time) {
	rnd := rand.New(rand.NewPCG(7, 11))
	stamps := make([]time.Time, 0, total)
	ms, k := 0, 0
	others := total - blockSize
	for len(stamps) < others {
		for n := tieSizes[k%len(tieSizes)]; n > 0 && len(stamps) < others; n-- {
			stamps = append(stamps, base.Add(time.Duration(ms)*time.Millisecond))
		}
		k++
		ms++
		if len(stamps) >= others/2 && len(stamps)-tieSizes[(k-1)%len(tieSizes)] < others/2 {
			ms += 1000 // room for the big block
		}
	}
	blockTS := base.Add(time.Duration(ms/2) * time.Millisecond)
	for range blockSize {
		stamps = append(stamps, blockTS)
	}
	rnd.Shuffle(len(stamps), func(i, j int) { stamps[i], stamps[j] = stamps[j], stamps[i] })
	last := base
	for _, s := range stamps {
		if s.After(last) {
			last = s
		}
	}
	ids := sb.SeedContacts(total, func(i int) hubspottest.SeedRecord {
		return hubspottest.SeedRecord{Properties: map[string]string{"email": fmt.Sprintf("c%d@example.com", i), "firstname": "seed"}, ModifiedAt: stamps[i]}
	})
	return ids, last
}

// walkOrder checks that a walk's records come in ascending (last-modified, id) order.
type walkOrder struct {
	t  *testing.T
	ts int64
	id string
}

func (o *walkOrder) check(r hubspot.Record) {
	o.t.Helper()
	v, err := hubspot.DecodeValue(hubspot.TypeDateTime, r.Properties["lastmodifieddate"])
	if err != nil {
		o.t.Fatalf("record %s: last-modified %q: %v", r.ID, r.Properties["lastmodifieddate"], err)
	}
	ms := v.(time.Time).UnixMilli()
	if ms < o.ts || ms == o.ts && cmpID(r.ID, o.id) <= 0 {
		o.t.Fatalf("record %s at %d after %s at %d: not ascending", r.ID, ms, o.id, o.ts)
	}
	o.ts, o.id = ms, r.ID
}

// TestSandboxWalkUnstableTies walks 25,000 contacts (a 12,000-record millisecond and many
// smaller tie blocks, some spanning page boundaries) while HubSpot orders ties arbitrarily per
// query: every record once, ascending, and a request count within 5% of what the tie blocks
// force (one page per 200 records, plus one id-sorted query per block that crosses a page).
func TestSandboxWalkUnstableTies(t *testing.T) {
	t.Parallel()
	const total, blockSize = 25_000, 12_000
	sb := hubspottest.NewTestServer(t, fast(hubspottest.Options{UnstableTies: true}))
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ids, _ := seedTies(sb, base, total, blockSize)
	c := newClient(t, sb, hubspot.WithLimits(fastLimits))

	seen := map[string]int{}
	order := &walkOrder{t: t}
	for p, err := range c.WalkModified(context.Background(), "contacts", hubspot.WalkCursor{Since: base}, []string{"email"}) {
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			seen[r.ID]++
			order.check(r)
		}
	}
	missing, dup := 0, 0
	for _, id := range ids {
		switch n := seen[id]; {
		case n == 0:
			missing++
		case n > 1:
			dup++
		}
	}
	if missing > 0 || dup > 0 || len(seen) != total {
		t.Errorf("walk with unstable ties: %d missing, %d repeated, %d distinct; want 0, 0, %d", missing, dup, len(seen), total)
	}
	got := sb.Count(hubspottest.EndpointSearch)
	// Generous bound: the records' pages plus one extra query per block of 200 or more
	// (they cannot be finished by time order alone) and per cycle of tieSizes.
	blocksOver := 0
	for _, n := range tieSizes {
		if n >= 200 {
			blocksOver++
		}
	}
	cycles := (total - blockSize) / sumInts(tieSizes)
	limit := int(math.Ceil(float64(total)/200*1.05)) + (blocksOver+1)*(cycles+1) + 2
	if got > limit {
		t.Errorf("%d search requests, want <= %d", got, limit)
	}
	t.Logf("%d search requests for %d records (bound %d)", got, total, limit)
}

func sumInts(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}

// TestSandboxWalkUnstableTiesWithWrites walks the same data while HubSpot users edit records
// (some already yielded, some not yet, one bulk edit) and search lags writes by two seconds:
// every record untouched during the walk is yielded exactly once, every edited one at least
// once and at most twice (before and after its edit), the last time with its new value.
func TestSandboxWalkUnstableTiesWithWrites(t *testing.T) {
	t.Parallel()
	const total, blockSize = 25_000, 12_000
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	clk := hubspottest.NewManualClock(base.Add(time.Hour))
	sb := hubspottest.NewTestServer(t, fast(hubspottest.Options{UnstableTies: true, SearchLag: 2 * time.Second, Clock: clk.Now}))
	ids, _ := seedTies(sb, base, total, blockSize)
	c := newClient(t, sb, hubspot.WithLimits(fastLimits))

	rnd := rand.New(rand.NewPCG(3, 5))
	edited := map[string]string{} // id -> the value written
	edit := func(id string) {
		v := "edit" + strconv.Itoa(len(edited))
		clk.Advance(time.Millisecond)
		sb.Update("contacts", id, map[string]string{"firstname": v})
		edited[id] = v
	}
	seen := map[string]int{}
	lastValue := map[string]string{}
	var yielded []string
	order := &walkOrder{t: t}
	pages := 0
	for p, err := range c.WalkModified(context.Background(), "contacts", hubspot.WalkCursor{Since: base}, []string{"email", "firstname"}) {
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			seen[r.ID]++
			lastValue[r.ID] = r.Properties["firstname"]
			yielded = append(yielded, r.ID)
			order.check(r)
		}
		pages++
		clk.Advance(50 * time.Millisecond)
		if pages <= 60 {
			// Edit records already yielded (their old copies leave the result list, shifting
			// every later record one place earlier) and records not yet reached.
			for range 5 {
				edit(yielded[rnd.IntN(len(yielded))])
				edit(ids[rnd.IntN(len(ids))])
			}
		}
		if pages == 30 {
			clk.Advance(time.Millisecond)
			bulk := make([]string, 0, 300)
			for range 300 {
				id := ids[rnd.IntN(len(ids))]
				bulk = append(bulk, id)
			}
			sb.BulkEdit("contacts", bulk, map[string]string{"firstname": "bulk"})
			for _, id := range bulk {
				edited[id] = "bulk"
			}
		}
		if pages == 61 {
			clk.Advance(5 * time.Second) // every edit visible before the walk reaches them
		}
	}
	var missing, dup, stale []string
	for _, id := range ids {
		n := seen[id]
		want, wasEdited := edited[id]
		switch {
		case n == 0:
			missing = append(missing, id)
		case !wasEdited && n > 1, n > 2:
			dup = append(dup, id)
		case wasEdited && lastValue[id] != want:
			stale = append(stale, id)
		}
	}
	if len(missing)+len(dup)+len(stale) > 0 {
		t.Errorf("walk with writes: %d missing (%.5v), %d repeated (%.5v), %d without their last edit (%.5v); %d edited",
			len(missing), missing, len(dup), dup, len(stale), stale, len(edited))
	}
}

// TestSandboxWalkResumeUnstableTies stops the walk every two pages, often inside a tie block
// read in unstable order, and resumes from the last page's Next: every record exactly once.
func TestSandboxWalkResumeUnstableTies(t *testing.T) {
	const total, blockSize = 6_000, 1_500
	sb := hubspottest.NewTestServer(t, fast(hubspottest.Options{UnstableTies: true}))
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ids, _ := seedTies(sb, base, total, blockSize)
	c := newClient(t, sb, hubspot.WithLimits(fastLimits))
	seen := map[string]int{}
	cursor := hubspot.WalkCursor{Since: base}
	order := &walkOrder{t: t}
	for walks := 0; ; walks++ {
		if walks > 1000 {
			t.Fatal("no progress")
		}
		pages, finished := 0, true
		for p, err := range c.WalkModified(context.Background(), "contacts", cursor, nil) {
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Records {
				seen[r.ID]++
				order.check(r)
			}
			cursor = p.Next
			if pages++; pages == 2 {
				finished = false
				break
			}
		}
		if finished {
			break
		}
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("record %s seen %d times, want 1", id, seen[id])
		}
	}
}
