package inbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/userpilot"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	st    *fakeStore
	hs    *fakeHubSpot
	up    *fakeUserpilot
	clock *clock
	in    *Inbound
}

func newEnv(t *testing.T, objs ...Object) *env {
	t.Helper()
	if len(objs) == 0 {
		objs = []Object{usersObject()}
	}
	e := &env{st: newFakeStore(), hs: newFakeHubSpot(), up: &fakeUserpilot{}, clock: &clock{t: now0}}
	in, err := NewInbound(e.st, e.hs, e.up, InboundConfig{Env: "production", Objects: objs, Overlap: 2 * time.Minute},
		WithClock(e.clock.now), WithDeadlineMargin(0), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	e.in = in
	return e
}

func (e *env) run(t *testing.T, mode Mode) *Report {
	t.Helper()
	rep, err := e.in.Run(context.Background(), mode)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return rep
}

// seed adds n contacts (ids 1001..) modified an hour ago, and profiles for
// the ones with even i.
func (e *env) seed(n int) {
	for i := range n {
		id := fmt.Sprint(1001 + i)
		e.hs.put("contacts", id, now0.Add(-time.Hour), map[string]string{"email": fmt.Sprintf("c%d@example.com", i), "firstname": "F" + id})
		if i%2 == 0 {
			e.st.add(&store.Profile{Kind: store.KindUser, ID: fmt.Sprintf("u%d", i), MatchValue: fmt.Sprintf("C%d@Example.com", i)})
		}
	}
}

func TestRunFullThenIncremental(t *testing.T) {
	e := newEnv(t)
	e.seed(7)
	rep := e.run(t, ModeIncremental)
	o := rep.Objects[0]
	if rep.Status != StatusComplete || o.Mode != ModeFull || !rep.Complete {
		t.Fatalf("first run: status %s mode %s complete %v, want a complete full sync", rep.Status, o.Mode, rep.Complete)
	}
	if want := (Counts{Read: 7, Linked: 4, Unmatched: 3, Written: 4, Pages: 3}); o.Counts != want {
		t.Errorf("first run counts\n got %+v\nwant %+v", o.Counts, want)
	}
	if got := e.up.written(); len(got) != 4 || describe(got["u2"][0]) != "__hubspot__object_type=contacts __hubspot__user_id=1003 first_name=F1003 " {
		t.Errorf("written %v", got)
	}
	if len(e.st.runs) != 1 || e.st.runs[0].Counts["users.linked"] != 4 || e.st.runs[0].Job != JobInbound {
		t.Errorf("run records %+v, want one with users.linked=4", e.st.runs)
	}
	if got := strings.Join(e.hs.props, ","); got != "email,hs_additional_emails,hs_merged_object_ids,firstname,lifecyclestage" {
		t.Errorf("requested properties %s", got)
	}

	// One contact changes a minute later; the poll runs five minutes later.
	e.up.reset()
	e.hs.put("contacts", "1003", now0.Add(time.Minute), map[string]string{"email": "c2@example.com", "firstname": "Changed"})
	e.clock.advance(5 * time.Minute)
	rep = e.run(t, ModeIncremental)
	o = rep.Objects[0]
	if o.Mode != ModeIncremental || o.Counts != (Counts{Read: 1, Written: 1, Pages: 1}) {
		t.Errorf("incremental: mode %s counts %+v, want 1 read and written", o.Mode, o.Counts)
	}
	if got := e.up.written(); len(got) != 1 || describe(got["u2"][0]) != "first_name=Changed " {
		t.Errorf("incremental wrote %v, want only u2's first_name", got)
	}
	// The stored profile follows what Userpilot now holds (the next diff
	// and the outbound echo check read it).
	if v := e.st.get(store.KindUser, "u2").Properties["first_name"]; v.Value != "Changed" {
		t.Errorf("u2's stored first_name %+v, want the value just written", v)
	}

	// Nothing changed: one search, nothing written.
	e.up.reset()
	e.hs.searches = 0
	e.clock.advance(5 * time.Minute)
	rep = e.run(t, ModeIncremental)
	if e.hs.searches != 1 || rep.Totals.Read != 0 || len(e.up.written()) != 0 {
		t.Errorf("idle poll: %d searches, %d read, %d written; want 1, 0, 0", e.hs.searches, rep.Totals.Read, len(e.up.written()))
	}

	// "Sync now" re-reads everything and writes nothing new.
	rep = e.run(t, ModeFull)
	if rep.Objects[0].Mode != ModeFull || rep.Totals.Read != 7 || rep.Totals.Skipped != 4 || len(e.up.written()) != 0 {
		t.Errorf("sync now: %+v, written %v; want 7 read, 4 skipped, nothing written", rep.Totals, e.up.written())
	}
}

// TestCursorStaysBehindSearchLag: records modified within the overlap of the
// walk's start are read again by the next poll (search may not show them all
// yet); older ones are not.
func TestCursorStaysBehindSearchLag(t *testing.T) {
	e := newEnv(t)
	e.seed(2)
	e.run(t, ModeFull)
	e.hs.put("contacts", "1001", now0.Add(-30*time.Second), map[string]string{"email": "c0@example.com", "firstname": "Recent"})
	e.run(t, ModeIncremental)
	c, _ := decodeCursor(e.st.cursors[cursorName(usersObject())])
	if want := now0.Add(-2 * time.Minute).UnixMilli(); c.SinceMS != want || c.AfterID != "" {
		t.Errorf("cursor %+v, want since %d (start minus overlap), no id", c, want)
	}
	e.up.reset()
	e.clock.advance(5 * time.Minute)
	rep := e.run(t, ModeIncremental)
	if rep.Totals.Read != 1 || rep.Totals.Written != 0 {
		t.Errorf("re-read %+v, want the recent record read again and nothing written", rep.Totals)
	}
	c, _ = decodeCursor(e.st.cursors[cursorName(usersObject())])
	if want := now0.Add(-30*time.Second).UnixMilli() + 1; c.SinceMS != want || c.AfterID != "" {
		t.Errorf("cursor %+v, want just after the record's millisecond now that it is older than the overlap", c)
	}
}

func TestLeaseHeld(t *testing.T) {
	e := newEnv(t)
	e.seed(3)
	if err := e.st.AcquireLease(context.Background(), "production", leaseName, "someone-else", time.Minute); err != nil {
		t.Fatal(err)
	}
	rep := e.run(t, ModeIncremental)
	if rep.Status != StatusLeaseHeld || rep.Complete || e.hs.lists != 0 || len(e.up.written()) != 0 {
		t.Errorf("status %s, %d lists, %d writes; want lease_held and nothing done", rep.Status, e.hs.lists, len(e.up.written()))
	}
}

func TestUserpilotFailures(t *testing.T) {
	t.Run("retryable: cursor stays, the rest of the page is not rewritten", func(t *testing.T) {
		e := newEnv(t)
		e.seed(6) // profiles u0, u2, u4 on pages of 3 records
		failing := true
		e.up.fail = func(id string) error {
			if id == "u2" && failing {
				return errRetryable
			}
			return nil
		}
		rep := e.run(t, ModeFull)
		o := rep.Objects[0]
		if rep.Status != StatusFailed || o.Complete || o.Failed != 1 || o.Pages != 0 {
			t.Fatalf("report %+v, want failed on the first page with 1 failure", o)
		}
		if len(o.Failures) != 1 || o.Failures[0].Profile != "u2" || o.Failures[0].Permanent {
			t.Errorf("failures %+v, want u2 retryable", o.Failures)
		}
		failing = false
		e.up.reset()
		rep = e.run(t, ModeIncremental)
		if !rep.Complete || rep.Objects[0].Mode != ModeFull {
			t.Fatalf("second run %+v, want the full sync completed", rep.Objects[0])
		}
		got := e.up.written()
		if len(got["u0"]) != 0 || len(got["u2"]) != 1 || len(got["u4"]) != 1 {
			t.Errorf("second run wrote %v, want u2 and u4 once and u0 (written before) not again", got)
		}
	})
	t.Run("permanent: reported, checkpoint moves on, not retried", func(t *testing.T) {
		e := newEnv(t)
		e.seed(6)
		e.up.fail = func(id string) error {
			if id == "u2" {
				return errBadInput
			}
			return nil
		}
		rep := e.run(t, ModeFull)
		o := rep.Objects[0]
		if !rep.Complete || o.Failed != 1 || o.Written != 2 {
			t.Fatalf("report %+v, want complete with 1 failed and 2 written", o)
		}
		if f := o.Failures[0]; f.Profile != "u2" || !f.Permanent || !strings.Contains(f.Reason, "invalid_metadata") || f.HubSpotID != "1003" {
			t.Errorf("failure %+v, want u2 permanent with the reason", f)
		}
		if fs := e.st.runs[0].Failures; len(fs) != 1 || fs[0].Record != "users/u2" {
			t.Errorf("run record failures %+v", fs)
		}
		e.up.reset()
		e.clock.advance(5 * time.Minute)
		e.run(t, ModeIncremental)
		if n := e.up.identify; n != 0 {
			t.Errorf("%d identify calls on the next poll, want none (not retried until the record changes)", n)
		}
	})
	t.Run("bad api key stops without moving the checkpoint", func(t *testing.T) {
		e := newEnv(t)
		e.seed(2)
		e.up.fail = func(string) error { return &userpilot.APIError{Endpoint: "identify", Status: 401} }
		rep := e.run(t, ModeFull)
		if rep.Status != StatusFailed || rep.Objects[0].Pages != 0 {
			t.Errorf("report %+v, want failed with no checkpoint", rep.Objects[0])
		}
	})
}

func TestBulkOrSingle(t *testing.T) {
	for _, tc := range []struct {
		profiles           int
		wantBulk, wantSing int
	}{
		{BulkIdentifyThreshold - 1, 0, BulkIdentifyThreshold - 1},
		{BulkIdentifyThreshold, 1, 0},
	} {
		t.Run(fmt.Sprint(tc.profiles), func(t *testing.T) {
			e := newEnv(t)
			e.hs.pageSize = 100
			e.seed(tc.profiles * 2)
			e.run(t, ModeFull)
			if e.up.bulk != tc.wantBulk || e.up.identify != tc.wantSing || len(e.up.written()) != tc.profiles {
				t.Errorf("%d bulk jobs and %d identify calls for %d users, want %d and %d", e.up.bulk, e.up.identify, len(e.up.written()), tc.wantBulk, tc.wantSing)
			}
		})
	}
	t.Run("failed bulk job falls back to single calls", func(t *testing.T) {
		e := newEnv(t)
		e.hs.pageSize = 100
		e.seed(BulkIdentifyThreshold * 2)
		e.up.fail = func(id string) error {
			if id == "u4" {
				return errBadInput
			}
			return nil
		}
		rep := e.run(t, ModeFull)
		if e.up.bulk != 1 || e.up.identify != BulkIdentifyThreshold || rep.Totals.Written != BulkIdentifyThreshold-1 || rep.Totals.Failed != 1 {
			t.Errorf("bulk %d identify %d totals %+v; want the job, then one call each, u4 failed", e.up.bulk, e.up.identify, rep.Totals)
		}
	})
}

// TestTimeBudget: a run stops at a checkpoint when the deadline nears, and
// the next one continues with nothing written twice.
func TestTimeBudget(t *testing.T) {
	e := newEnv(t)
	e.seed(30)
	e.in.margin = time.Hour // capped at a quarter of the time left
	// Each page takes 200 ms of a 300 ms invocation: long enough that a page's
	// own store and Userpilot calls (which honour the deadline) fit in what
	// is left on a loaded machine under -race.
	e.hs.delay = 200 * time.Millisecond
	var pages, runs int
	for i := 0; i < 20; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		rep, err := e.in.Run(ctx, ModeIncremental)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		runs++
		pages += int(rep.Totals.Pages)
		if rep.Complete {
			break
		}
		if rep.Status != StatusPartial || rep.Totals.Pages < 1 || rep.Objects[0].Complete {
			t.Fatalf("run %d: %+v, want partial after at least one page", i, rep)
		}
	}
	if runs < 3 {
		t.Errorf("%d runs, want the budget to split the work over several", runs)
	}
	if pages != 10 {
		t.Errorf("%d pages over all runs, want 10", pages)
	}
	e.wantEachWrittenOnce(t, 15)
}

// TestCrashLosesNothing injects a failure at each step of a page and checks
// that the next run finishes with at most the page in flight written twice.
func TestCrashLosesNothing(t *testing.T) {
	for _, at := range []string{"cursor", "profiles"} {
		t.Run(at, func(t *testing.T) {
			e := newEnv(t)
			e.seed(30)
			calls := 0
			crash := func() error {
				calls++
				if calls == 4 {
					return errCrash
				}
				return nil
			}
			if at == "cursor" {
				e.st.putCursor = func(string, string) error { return crash() }
			} else {
				e.st.putProfiles = func([]*store.Profile) error { return crash() }
			}
			rep := e.run(t, ModeFull)
			if rep.Status != StatusFailed || !strings.Contains(rep.Error, "injected crash") {
				t.Fatalf("crashed run %+v", rep)
			}
			e.st.putCursor, e.st.putProfiles = nil, nil
			rep = e.run(t, ModeIncremental)
			if !rep.Complete {
				t.Fatalf("second run %+v, want complete", rep)
			}
			twice := 0
			for id, ws := range e.up.written() {
				if len(ws) > 2 {
					t.Errorf("%s written %d times", id, len(ws))
				}
				if len(ws) == 2 {
					twice++
				}
			}
			if n := len(e.up.written()); n != 15 {
				t.Errorf("%d users written, want all 15", n)
			}
			// A page holds 3 records, so at most 2 of its profiles.
			if max := map[string]int{"cursor": 0, "profiles": 2}[at]; twice > max {
				t.Errorf("%d users written twice, want at most %d (the page in flight)", twice, max)
			}
		})
	}
}

func TestCompaniesAndSaveConflicts(t *testing.T) {
	companies := Object{Kind: store.KindCompany, HubSpotObject: "companies", MatchHubSpot: "domain", MatchUserpilot: "domain",
		Inbound: []config.PropertyMapping{{HubSpot: "name", Userpilot: "company_name"}}}
	e := newEnv(t, usersObject(), companies)
	e.seed(2)
	e.hs.put("companies", "501", now0.Add(-time.Hour), map[string]string{"domain": "Acme.com", "name": "Acme"})
	e.st.add(&store.Profile{Kind: store.KindCompany, ID: "co1", MatchValue: "acme.com"})
	// An identify event updates co1 between our read and our write, once.
	conflicted := false
	e.st.putProfiles = func(ps []*store.Profile) error {
		for _, p := range ps {
			if p.ID == "co1" && !conflicted {
				conflicted = true
				if _, err := e.st.MergeIdentify(context.Background(), "production", store.KindCompany, "co1",
					store.IdentifyInput{Properties: map[string]any{"plan": "pro"}, At: now0}); err != nil {
					return err
				}
			}
		}
		return nil
	}
	rep := e.run(t, ModeFull)
	if !rep.Complete || len(rep.Objects) != 2 || rep.Objects[1].Written != 1 {
		t.Fatalf("report %+v", rep)
	}
	if got := describe(e.up.written()["co:co1"][0]); got != "__hubspot__company_id=501 __hubspot__object_type=companies company_name=Acme " {
		t.Errorf("company write %q", got)
	}
	p := e.st.get(store.KindCompany, "co1")
	if p.HubSpotID != "501" || p.Properties["plan"].Value != "pro" || p.InboundHashes["company_name"] != ValueHash("Acme") {
		t.Errorf("co1 after conflict: %+v; want the link, the hash, and the identify event's plan kept", p)
	}
}

func TestWalkErrorKeepsCursor(t *testing.T) {
	e := newEnv(t)
	e.seed(2)
	e.run(t, ModeFull)
	before := e.st.cursors[cursorName(usersObject())]
	e.hs.walkErr = errors.New("search: 502")
	rep := e.run(t, ModeIncremental)
	if rep.Status != StatusFailed || e.st.cursors[cursorName(usersObject())] != before {
		t.Errorf("status %s, cursor moved %v; want failed and the cursor kept", rep.Status, e.st.cursors[cursorName(usersObject())] != before)
	}
}

// TestObjectErrorKeepsTypedError: the error that stopped an object type stays
// on the report as a value (for errors.Is/As in alerts), wrapped or not, and
// as text only in the JSON report.
func TestObjectErrorKeepsTypedError(t *testing.T) {
	e := newEnv(t)
	e.seed(2)
	e.run(t, ModeFull)
	e.hs.walkErr = &hubspot.RateLimitError{Policy: hubspot.PolicyDaily}
	rep := e.run(t, ModeIncremental)
	o := rep.Objects[0]
	if o.Object != "users" || o.Error == "" || !errors.Is(o.Err, hubspot.ErrDailyLimit) {
		t.Fatalf("got %s error %q err %v, want users stopped by a hubspot.ErrDailyLimit", o.Object, o.Error, o.Err)
	}
	var rl *hubspot.RateLimitError
	if !errors.As(o.Err, &rl) || rl.Policy != hubspot.PolicyDaily {
		t.Errorf("got err %v, want the *hubspot.RateLimitError kept", o.Err)
	}
	if o.Err.Error() != o.Error {
		t.Errorf("got text %q, want the error's own %q", o.Error, o.Err.Error())
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if got := back.Objects[0]; got.Error != o.Error || got.Err != nil {
		t.Errorf("after JSON: got error %q err %v, want the text alone", got.Error, got.Err)
	}
}

// TestBudgetKeepsRoomForASlowPage: when pages take longer than the margin,
// the run stops while the next page could still finish, instead of starting
// one the deadline would cut.
func TestBudgetKeepsRoomForASlowPage(t *testing.T) {
	e := newEnv(t)
	e.seed(30)
	e.in.margin = time.Millisecond      // a margin far smaller than a page
	e.hs.delay = 300 * time.Millisecond // each page takes about 300 ms
	const timeout = time.Second
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	rep, err := e.in.Run(ctx, ModeIncremental)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != StatusPartial || rep.Totals.Pages < 1 {
		t.Fatalf("report %+v, want partial after at least one page", rep)
	}
	// Pages end near 300, 600 and 900 ms: at 900 ms another would end past
	// the deadline, so the run stops there rather than at about 1200 ms.
	if elapsed >= timeout {
		t.Errorf("run took %s, want it to stop before the %s deadline", elapsed, timeout)
	}
}

// TestBudgetKeepsRoomForASlowWrite: when writing a page to Userpilot takes
// longer than the margin, the run stops at the checkpoint after which a
// page as slow would end past the deadline: partial, nothing cut.
func TestBudgetKeepsRoomForASlowWrite(t *testing.T) {
	e := newEnv(t)
	e.seed(30)
	e.in.margin = time.Millisecond      // a margin far smaller than a page
	e.up.delay = 170 * time.Millisecond // pages of about 285 ms
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	rep, err := e.in.Run(ctx, ModeIncremental)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d pages in %s", rep.Totals.Pages, time.Since(start).Round(time.Millisecond))
	if rep.Status != StatusPartial || rep.Error != "" || rep.Totals.Pages < 1 || rep.Totals.Failed != 0 {
		t.Errorf("report %s %q %+v, want partial after at least one page, no write cut by the deadline", rep.Status, rep.Error, rep.Totals)
	}
}

// TestBudgetSpentBeforeAnObjectIsPartialNotFailed: an object type the budget
// left no time for is reported incomplete, and the run partial.
func TestBudgetSpentBeforeAnObjectIsPartialNotFailed(t *testing.T) {
	companies := Object{Kind: store.KindCompany, HubSpotObject: "companies", MatchHubSpot: "domain", MatchUserpilot: "domain"}
	e := newEnv(t, usersObject(), companies)
	e.seed(3)
	e.hs.pageSize = 10
	e.hs.delay = 30 * time.Millisecond
	e.in.margin = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Millisecond)
	defer cancel()
	rep, err := e.in.Run(ctx, ModeFull)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != StatusPartial || rep.Error != "" || len(rep.Objects) != 2 {
		t.Fatalf("report %+v, want partial without error", rep)
	}
	if o := rep.Objects[1]; o.Complete || o.Error != "" || o.Message != "not started: time budget spent" {
		t.Errorf("companies %+v, want not started for the budget, no error", o)
	}
}

// TestLostLeaseStopsTheRun: a run whose lease was taken mid-page (its own
// expired while a page was slow) writes no checkpoint and starts no further
// page: the new holder owns the cursor.
func TestLostLeaseStopsTheRun(t *testing.T) {
	e := newEnv(t)
	e.seed(30)
	e.run(t, ModeFull)
	name := cursorName(usersObject())
	before := e.st.cursors[name]
	for i := range 30 {
		id := fmt.Sprint(1001 + i)
		e.hs.put("contacts", id, now0.Add(time.Minute), map[string]string{"email": fmt.Sprintf("c%d@example.com", i), "firstname": "New" + id})
	}
	e.up.reset()
	e.st.stealOnFirstSave("newer-run")
	e.clock.advance(5 * time.Minute)
	rep := e.run(t, ModeIncremental)
	o := rep.Objects[0]
	if rep.Status != StatusFailed || !errors.Is(o.Err, store.ErrLeaseLost) {
		t.Errorf("report %s %q, want failed with the lease lost", rep.Status, o.Error)
	}
	if got := e.st.cursors[name]; got != before {
		t.Errorf("cursor moved to %s by a run that lost its lease, want %s kept", got, before)
	}
	if n := len(e.up.written()); n > 2 {
		t.Errorf("%d users written after the lease was lost, want at most the page in flight (2)", n)
	}
}

// TestLeaseOutlivesASlowPage: the lease is kept alive while a page takes
// longer than its TTL, so a second run cannot start meanwhile.
func TestLeaseOutlivesASlowPage(t *testing.T) {
	e := newEnv(t)
	e.in.leaseTTL = 150 * time.Millisecond
	e.seed(6)
	e.hs.delay = 200 * time.Millisecond // each list page outlasts the lease
	var other *Report
	var wg sync.WaitGroup
	wg.Go(func() {
		time.Sleep(250 * time.Millisecond)
		other = e.run(t, ModeIncremental)
	})
	rep := e.run(t, ModeFull)
	wg.Wait()
	if rep.Status != StatusComplete {
		t.Errorf("slow run: %s %s, want complete", rep.Status, rep.Error)
	}
	if other.Status != StatusLeaseHeld {
		t.Errorf("overlapping run: %s, want lease_held while the slow run works", other.Status)
	}
}

// TestRenewalFailuresStopTheRunBeforeItsLeaseEnds: when the lease cannot be
// renewed, the run stops before the lease could expire (another run may then
// take it) and leaves the cursor alone.
func TestRenewalFailuresStopTheRunBeforeItsLeaseEnds(t *testing.T) {
	e := newEnv(t)
	e.in.leaseTTL = 150 * time.Millisecond
	e.seed(30)
	e.hs.delay = 60 * time.Millisecond
	e.st.renewErr = errors.New("dynamodb: 500")
	start := time.Now()
	rep := e.run(t, ModeFull)
	if rep.Status != StatusFailed || !errors.Is(rep.Objects[0].Err, store.ErrLeaseLost) {
		t.Errorf("report %s %q, want failed with the lease lost", rep.Status, rep.Error)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("run took %s, want it stopped near the lease's end", d)
	}
	if rep.Totals.Pages >= 10 {
		t.Errorf("%d pages, want the run stopped before finishing", rep.Totals.Pages)
	}
}

// TestEchoOnlyUntilHubSpotMovesOn: a value pilotsync wrote to HubSpot is not
// copied back, but once HubSpot moved to another value, a later genuine
// change back to that same value must flow to Userpilot.
func TestEchoOnlyUntilHubSpotMovesOn(t *testing.T) {
	e := newEnv(t)
	e.st.add(&store.Profile{Kind: store.KindUser, ID: "u0", MatchValue: "c0@example.com",
		Properties:     map[string]store.Property{"hs_stage": {Value: "customer", At: now0.Add(-2 * time.Hour)}},
		OutboundHashes: map[string]string{"lifecyclestage": ValueHash("customer")}})
	step := func(stage string) map[string][]map[string]any {
		t.Helper()
		e.hs.put("contacts", "1001", e.clock.now(), map[string]string{"email": "c0@example.com", "lifecyclestage": stage})
		e.up.reset()
		e.clock.advance(5 * time.Minute)
		e.run(t, ModeIncremental)
		return e.up.written()
	}
	if got := step("customer"); len(got["u0"]) != 1 || got["u0"][0]["hs_stage"] != nil {
		t.Fatalf("echo: wrote %v, want the link only, not hs_stage", got)
	}
	if got := step("lead"); len(got["u0"]) != 1 || got["u0"][0]["hs_stage"] != "lead" {
		t.Fatalf("genuine change: wrote %v, want hs_stage=lead", got)
	}
	if got := step("customer"); len(got["u0"]) != 1 || got["u0"][0]["hs_stage"] != "customer" {
		t.Errorf("HubSpot changed back to customer: wrote %v, want hs_stage=customer (not an echo any more)", got)
	}
}

// TestLinkMadeOnePageEarlierIsSeenByTheNext: pages are looked up while the
// previous one is written; a link that page made must still be followed when
// the next page merges that record away.
func TestLinkMadeOnePageEarlierIsSeenByTheNext(t *testing.T) {
	e := newEnv(t)
	e.hs.pageSize = 1
	e.hs.put("contacts", "1001", now0.Add(-time.Hour), map[string]string{"email": "x@example.com"})
	e.hs.put("contacts", "1005", now0.Add(-time.Hour), map[string]string{"email": "y@example.com", "hs_merged_object_ids": "1001"})
	e.st.add(&store.Profile{Kind: store.KindUser, ID: "u1", MatchValue: "x@example.com"})
	// Saving is slow, so the next page's lookups read the store before it.
	e.st.putProfiles = func([]*store.Profile) error { time.Sleep(50 * time.Millisecond); return nil }
	rep := e.run(t, ModeFull)
	if !rep.Complete {
		t.Fatalf("report %+v", rep)
	}
	if p := e.st.get(store.KindUser, "u1"); p.HubSpotID != "1005" {
		t.Errorf("u1 linked to %q, want 1005 (1001 was merged into it)", p.HubSpotID)
	}
}

// TestSlowReadAheadStopsAtTheBudget: the next page is read while the last
// one is written; when that read is still going as the budget ends (a slow
// HubSpot or DynamoDB), the run stops at its last checkpoint, partial, and
// does not wait for the invocation's deadline to fail the object type.
func TestSlowReadAheadStopsAtTheBudget(t *testing.T) {
	e := newEnv(t)
	e.seed(30)
	e.in.margin = time.Hour // capped at a quarter of the time left
	e.hs.listDelay = func(after string) time.Duration {
		if after == "" {
			return 0
		}
		return time.Minute // outlasts the invocation
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	rep, err := e.in.Run(ctx, ModeFull)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= 2*time.Second {
		t.Errorf("run took %s, want it stopped at the 1.5 s budget", d)
	}
	if o := rep.Objects[0]; rep.Status != StatusPartial || o.Error != "" || o.Pages != 1 || o.Complete || o.Message != "stopped at a checkpoint: time budget spent" {
		t.Fatalf("report %s %+v, want partial after the first page, no error, the stop explained", rep.Status, o)
	}
	e.hs.listDelay = nil
	if rep := e.run(t, ModeIncremental); rep.Status != StatusComplete {
		t.Fatalf("next run: %s %s, want complete", rep.Status, rep.Error)
	}
	e.wantEachWrittenOnce(t, 15)
}

// TestFirstReadHangingFailsTheRun: a run that has not checkpointed a page
// waits for its read however slow, so an API or store that hangs fails the
// object type (and alerts) rather than leaving every run partial.
func TestFirstReadHangingFailsTheRun(t *testing.T) {
	e := newEnv(t)
	e.seed(30)
	e.in.margin = time.Hour
	e.hs.listDelay = func(string) time.Duration { return time.Minute }
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	rep, err := e.in.Run(ctx, ModeFull)
	if err != nil {
		t.Fatal(err)
	}
	if o := rep.Objects[0]; rep.Status != StatusFailed || !errors.Is(o.Err, context.DeadlineExceeded) || o.Pages != 0 {
		t.Errorf("report %s %+v, want failed with the read's deadline error", rep.Status, o)
	}
}

// wantEachWrittenOnce checks that Userpilot received n users, each once.
func (e *env) wantEachWrittenOnce(t *testing.T, n int) {
	t.Helper()
	for id, ws := range e.up.written() {
		if len(ws) != 1 {
			t.Errorf("%s written %d times, want once", id, len(ws))
		}
	}
	if got := len(e.up.written()); got != n {
		t.Errorf("%d users written, want %d", got, n)
	}
}

// TestFullSyncEndingPastTheBudgetIsComplete: a full sync whose last page
// is checkpointed after the budget ended is complete: the budget only
// matters for pages still to come.
func TestFullSyncEndingPastTheBudgetIsComplete(t *testing.T) {
	e := newEnv(t)
	e.hs.pageSize = 2
	e.seed(4) // two pages, one profile on each
	e.in.margin = time.Hour
	e.up.delay = 800 * time.Millisecond // the second page ends at 1.6 s, past the 1.5 s budget
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rep, err := e.in.Run(ctx, ModeFull)
	if err != nil {
		t.Fatal(err)
	}
	if o := rep.Objects[0]; rep.Status != StatusComplete || !o.Complete || o.Pages != 2 || o.Written != 2 {
		t.Errorf("report %s %+v, want complete after both pages", rep.Status, o)
	}
}

// TestSlowFirstPageIsStillWritten: a run whose first page is read only
// after the budget ended still writes it (a run that never gets past its
// first read would never progress), then stops.
func TestSlowFirstPageIsStillWritten(t *testing.T) {
	e := newEnv(t)
	e.seed(30)
	e.in.margin = time.Hour
	e.hs.listDelay = func(after string) time.Duration {
		if after == "" {
			return 1600 * time.Millisecond // past the 1.5 s budget of a 2 s invocation
		}
		return time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rep, err := e.in.Run(ctx, ModeFull)
	if err != nil {
		t.Fatal(err)
	}
	if o := rep.Objects[0]; rep.Status != StatusPartial || o.Pages != 1 || o.Written != 2 || o.Error != "" {
		t.Errorf("report %s %+v, want partial with the first page written", rep.Status, o)
	}
}

// TestWalkEndingExactlyAtTheSafeTimeMovesPastIt: records modified in the
// very millisecond the walk treats as safe (start minus overlap) were all
// visible: the finished walk's cursor moves just past that millisecond, not
// back into it by id (which would cost the next idle poll a second search).
func TestWalkEndingExactlyAtTheSafeTimeMovesPastIt(t *testing.T) {
	e := newEnv(t)
	e.seed(2)
	e.run(t, ModeFull)
	safe := now0.Add(-2 * time.Minute) // the overlap is 2 minutes
	for _, id := range []string{"1001", "1002"} {
		e.hs.put("contacts", id, safe, map[string]string{"email": "c" + id + "@example.com", "firstname": "Safe"})
	}
	e.run(t, ModeIncremental)
	c, _ := decodeCursor(e.st.cursors[cursorName(usersObject())])
	if want := safe.UnixMilli() + 1; c.SinceMS != want || c.AfterID != "" {
		t.Errorf("cursor %+v, want since %d (just after the safe millisecond), no id", c, want)
	}
}
