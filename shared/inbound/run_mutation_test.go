package inbound

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/store"
)

// TestNewInboundRejectsIncompleteConfig: a poll without an environment, with
// a negative overlap, or with an object type missing its HubSpot object or
// either match property is refused when it is built, naming the object
// type; an overlap of zero is allowed.
func TestNewInboundRejectsIncompleteConfig(t *testing.T) {
	st, hs, up := newFakeStore(), newFakeHubSpot(), &fakeUserpilot{}
	company := Object{Kind: store.KindCompany, HubSpotObject: "companies", MatchHubSpot: "domain", MatchUserpilot: "domain"}
	for _, tt := range []struct {
		name string
		cfg  InboundConfig
		want string // in the error; "" accepts
	}{
		{"complete", InboundConfig{Env: "production", Objects: []Object{usersObject(), company}}, ""},
		{"zero overlap", InboundConfig{Env: "production", Objects: []Object{usersObject()}, Overlap: 0}, ""},
		{"no environment", InboundConfig{Objects: []Object{usersObject()}}, "no userpilot environment"},
		{"negative overlap", InboundConfig{Env: "production", Overlap: -time.Second}, "negative overlap -1s"},
		{"no hubspot object", InboundConfig{Env: "production", Objects: []Object{usersObject(), {Kind: store.KindCompany, MatchHubSpot: "domain", MatchUserpilot: "domain"}}},
			"companies: object and match properties are required"},
		{"no hubspot match", InboundConfig{Env: "production", Objects: []Object{{Kind: store.KindUser, HubSpotObject: "contacts", MatchUserpilot: "email"}}},
			"users: object and match properties are required"},
		{"no userpilot match", InboundConfig{Env: "production", Objects: []Object{{Kind: store.KindUser, HubSpotObject: "contacts", MatchHubSpot: "email"}}},
			"users: object and match properties are required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in, err := NewInbound(st, hs, up, tt.cfg)
			if tt.want == "" {
				if err != nil || in == nil {
					t.Fatalf("NewInbound: %v, want it built", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewInbound error %v, want one saying %q", err, tt.want)
			}
		})
	}
}

// TestRunMode: a run asked for no mode runs incrementally (a full sync only
// while there is no checkpoint); an unknown mode is refused before anything
// is read, the lease taken or a run record written.
func TestRunMode(t *testing.T) {
	e := newEnv(t)
	e.seed(2)
	e.run(t, ModeFull)
	e.clock.advance(5 * time.Minute)
	rep := e.run(t, "")
	if rep.Mode != ModeIncremental || rep.Objects[0].Mode != ModeIncremental || rep.Status != StatusComplete {
		t.Errorf("run without a mode: %s (users %s) %s, want a complete incremental run", rep.Mode, rep.Objects[0].Mode, rep.Status)
	}
	runs := len(e.st.runs)
	if _, err := e.in.Run(context.Background(), "fast"); err == nil || !strings.Contains(err.Error(), `unknown mode "fast"`) {
		t.Errorf("Run(fast) error %v, want the unknown mode named", err)
	}
	if len(e.st.runs) != runs {
		t.Errorf("%d run records after a refused mode, want %d", len(e.st.runs), runs)
	}
	if err := e.st.AcquireLease(context.Background(), "production", leaseName, "next", time.Minute); err != nil {
		t.Errorf("lease not free after a refused mode: %v", err)
	}
}

// TestLeaseStoreErrorIsTheRunsError: when the lease cannot be taken for
// another reason than another run holding it, Run returns that error (the
// run could not start) and does nothing.
func TestLeaseStoreErrorIsTheRunsError(t *testing.T) {
	e := newEnv(t)
	e.seed(2)
	down := errors.New("dynamodb: connection refused")
	e.st.Fail(func(op string) error {
		if op == "AcquireLease" {
			return down
		}
		return nil
	})
	rep, err := e.in.Run(context.Background(), ModeFull)
	if !errors.Is(err, down) || !strings.Contains(err.Error(), "take lease") || rep != nil {
		t.Fatalf("Run: %+v, %v; want no report and the lease error", rep, err)
	}
	if e.hs.lists != 0 || len(e.up.written()) != 0 {
		t.Errorf("%d lists, %d users written, want nothing done", e.hs.lists, len(e.up.written()))
	}
}

// TestLostLeaseLeavesTheRemainingObjectTypesNotStarted (issue 14 item 6):
// once the lease is lost, the object types after the one it stopped are not
// started, and the report and the run record say so as an error (a lost
// lease is a failure, unlike the time budget).
func TestLostLeaseLeavesTheRemainingObjectTypesNotStarted(t *testing.T) {
	e := newEnv(t, usersObject(), companiesObject())
	e.seed(2)
	e.company("501", now0.Add(-time.Hour))
	e.st.stealOnFirstSave("newer-run")
	rep := e.run(t, ModeFull)
	if len(rep.Objects) != 2 {
		t.Fatalf("report lists %d object types, want both", len(rep.Objects))
	}
	users, cos := rep.Objects[0], rep.Objects[1]
	if !errors.Is(users.Err, store.ErrLeaseLost) {
		t.Errorf("users error %q, want the lease lost", users.Error)
	}
	if cos.Error != "not started: lease lost" || cos.Message != "" || cos.Complete || cos.Read != 0 {
		t.Errorf("companies %+v, want not started because the lease was lost, as an error", cos)
	}
	if rep.Status != StatusFailed || !strings.Contains(rep.Error, "companies: not started: lease lost") {
		t.Errorf("report %s %q, want failed naming companies not started", rep.Status, rep.Error)
	}
	if len(e.up.written()["co:co501"]) != 0 {
		t.Error("company written after the lease was lost")
	}
	if len(e.st.runs) != 1 || !strings.Contains(e.st.runs[0].Error, "companies: not started: lease lost") {
		t.Errorf("run records %+v, want the companies not started in its error", e.st.runs)
	}
}

// TestCountsAdd: every counter of a run's totals is the sum over its object
// types.
func TestCountsAdd(t *testing.T) {
	c := Counts{Read: 1, Linked: 2, Relinked: 3, Unlinked: 4, Unmatched: 5, Written: 6, Skipped: 7, Echoes: 8, Failed: 9, Pages: 10}
	c.Add(Counts{Read: 10, Linked: 20, Relinked: 30, Unlinked: 40, Unmatched: 50, Written: 60, Skipped: 70, Echoes: 80, Failed: 90, Pages: 100})
	if want := (Counts{Read: 11, Linked: 22, Relinked: 33, Unlinked: 44, Unmatched: 55, Written: 66, Skipped: 77, Echoes: 88, Failed: 99, Pages: 110}); c != want {
		t.Errorf("sum\n got %+v\nwant %+v", c, want)
	}
}

// TestRunRecordCounters: the run record `pilotsync status` reads has every
// counter per object type and in total, whether the run was complete, each
// failure and each object type's cause.
func TestRunRecordCounters(t *testing.T) {
	e := newEnv(t, usersObject(), companiesObject())
	e.seed(4)                              // users: 4 read, 2 linked and written, 2 unmatched, 2 pages
	e.company("501", now0.Add(-time.Hour)) // companies: 1 read, linked, written, 1 page
	e.hs.put("companies", "502", now0.Add(-time.Hour), map[string]string{"domain": "nobody.example.com"})
	e.up.fail = func(id string) error {
		if id == "u2" {
			return errBadInput
		}
		return nil
	}
	rep := e.run(t, ModeFull)
	if !rep.Complete || len(e.st.runs) != 1 {
		t.Fatalf("report %+v, runs %d; want one complete run", rep, len(e.st.runs))
	}
	rec := e.st.runs[0]
	want := map[string]int64{"complete": 1}
	for _, o := range rep.Objects {
		for k, v := range o.Counts.fields() {
			want[o.Object+"."+k] = v
		}
	}
	for k, v := range rep.Totals.fields() {
		want[k] = v
	}
	if !maps.Equal(rec.Counts, want) {
		t.Errorf("run record counts\n got %v\nwant %v", rec.Counts, want)
	}
	if rec.Counts["read"] != 6 || rec.Counts["users.read"] != 4 || rec.Counts["companies.read"] != 2 ||
		rec.Counts["written"] != 2 || rec.Counts["failed"] != 1 || rec.Counts["pages"] != 3 || rec.Counts["unmatched"] != 3 {
		t.Errorf("run record counts %v, want read 6 (4 users, 2 companies), written 2, failed 1, pages 3, unmatched 3", rec.Counts)
	}
	if len(rec.Failures) != 1 || rec.Failures[0] != (store.Failure{Record: "users/u2", Field: "1003", Reason: rep.Objects[0].Failures[0].Reason}) {
		t.Errorf("run record failures %+v", rec.Failures)
	}
	if rec.Causes != nil || rec.Error != "" || rec.ID != rep.RunID || rec.Job != JobInbound || !rec.Finished.Equal(rep.Finished) {
		t.Errorf("run record %+v, want no causes or error, and the report's id, job and times", rec)
	}

	// Both object types fail: the record says incomplete, with both causes
	// and both errors.
	e.hs.walkErr = errors.New("search: 502")
	e.clock.advance(5 * time.Minute)
	rep = e.run(t, ModeIncremental)
	rec = e.st.runs[1]
	if rec.Counts["complete"] != 0 || rep.Complete {
		t.Errorf("failed run record complete=%d, want 0", rec.Counts["complete"])
	}
	if want := map[string]string{"users": "outage", "companies": "outage"}; !maps.Equal(rec.Causes, want) {
		t.Errorf("causes %v, want %v", rec.Causes, want)
	}
	if want := "users: walk contacts: search: 502; companies: walk companies: search: 502"; rep.Error != want || rec.Error != want {
		t.Errorf("errors %q / %q, want %q", rep.Error, rec.Error, want)
	}
}

// TestRunErrorIsCapped: the run's error text is capped at 2000 characters
// (an ellipsis marks the cut); one of exactly 2000 is kept whole.
func TestRunErrorIsCapped(t *testing.T) {
	const prefix = "users: walk contacts: " // what the report adds to the walk's error
	for _, tt := range []struct {
		n      int // length of the whole error text
		capped bool
	}{{2000, false}, {2001, true}, {3000, true}} {
		e := newEnv(t)
		e.run(t, ModeFull)
		msg := strings.Repeat("x", tt.n-len(prefix))
		e.hs.walkErr = errors.New(msg)
		rep := e.run(t, ModeIncremental)
		want := prefix + msg
		if tt.capped {
			want = want[:2000] + "…"
		}
		if rep.Error != want {
			t.Errorf("error of %d characters: got %d characters (ends %q), want %d", tt.n, len(rep.Error), rep.Error[max(0, len(rep.Error)-5):], len(want))
		}
	}
}

// TestAPICallsFromClientStats: with the clients' counters, a report counts
// each endpoint's calls during the run (the counters' difference), leaving
// out the endpoints not called in it.
func TestAPICallsFromClientStats(t *testing.T) {
	e, hs := newRichEnv(t)
	stats := &apiStats{n: map[string]int64{"hubspot.list": 10, "userpilot.identify": 3}}
	hs.stats = stats
	hs.list429 = true
	WithAPIStats(stats.snapshot)(e.in)
	e.seed(7) // 3 list pages
	rep := e.run(t, ModeFull)
	if want := map[string]int64{"hubspot.list": 4, "hubspot.list.429": 1}; !maps.Equal(rep.APICalls, want) {
		t.Errorf("api calls %v, want %v", rep.APICalls, want)
	}
	if !maps.Equal(e.st.runs[0].APICalls, rep.APICalls) {
		t.Errorf("run record api calls %v, want %v", e.st.runs[0].APICalls, rep.APICalls)
	}
}

// TestProgress: after each checkpointed page, sync now's progress says how
// many records of the object type were read, of HubSpot's total (counted
// once per run), and how many API calls the run made so far.
func TestProgress(t *testing.T) {
	t.Run("engine's own counts", func(t *testing.T) {
		e, hs := newRichEnv(t)
		hs.total = 7
		e.seed(7) // 3 pages, 4 users written
		var got []Progress
		WithProgress(func(p Progress) { got = append(got, p) })(e.in)
		rep := e.run(t, ModeFull)
		if len(got) != 3 {
			t.Fatalf("progress %+v, want one per page", got)
		}
		for i, done := range []int64{3, 6, 7} {
			if p := got[i]; p.Object != "users" || p.Done != done || p.Total != 7 {
				t.Errorf("progress %d: %+v, want users %d of 7", i, p, done)
			}
			if i > 0 && got[i].Calls < got[i-1].Calls {
				t.Errorf("calls went down: %+v", got)
			}
		}
		var calls int64
		for _, n := range rep.APICalls {
			calls += n
		}
		if last := got[2].Calls; last != calls || calls != 3+1+1+4 {
			t.Errorf("last progress %d calls, report %v; want 9 (3 lists, 1 count, 1 property types, 4 identifies)", last, rep.APICalls)
		}
		if hs.searchCall != 1 || rep.APICalls["hubspot.search"] != 1 {
			t.Errorf("%d count searches (%d in the report), want one per run", hs.searchCall, rep.APICalls["hubspot.search"])
		}
	})
	t.Run("count fails: total unknown", func(t *testing.T) {
		e, hs := newRichEnv(t)
		hs.searchErr = errors.New("search: 502")
		e.seed(4)
		var got []Progress
		WithProgress(func(p Progress) { got = append(got, p) })(e.in)
		rep := e.run(t, ModeFull)
		if !rep.Complete || len(got) != 2 || got[0].Total != 0 || got[1].Done != 4 {
			t.Errorf("progress %+v (%s), want 2 pages of an unknown total", got, rep.Status)
		}
		if _, ok := rep.APICalls["hubspot.search"]; ok || hs.searchCall != 1 {
			t.Errorf("api calls %v after %d failed count, want the failed count not counted and not retried", rep.APICalls, hs.searchCall)
		}
	})
	t.Run("reader cannot count", func(t *testing.T) {
		e := newEnv(t)
		e.seed(4)
		var got []Progress
		WithProgress(func(p Progress) { got = append(got, p) })(e.in)
		e.run(t, ModeFull)
		if len(got) != 2 || got[0].Total != 0 || got[1].Done != 4 {
			t.Errorf("progress %+v, want 2 pages of an unknown total", got)
		}
	})
	t.Run("clients' counters, without 429 answers", func(t *testing.T) {
		e, hs := newRichEnv(t)
		stats := &apiStats{n: map[string]int64{"hubspot.list": 10, "userpilot.identify": 3}}
		hs.stats, hs.list429, hs.total = stats, true, 7
		WithAPIStats(stats.snapshot)(e.in)
		e.seed(7)
		var got []Progress
		WithProgress(func(p Progress) { got = append(got, p) })(e.in)
		e.run(t, ModeFull)
		if len(got) != 3 || got[2].Calls != 3+1+1 {
			t.Errorf("progress %+v, want 3 pages and 5 calls at the end (3 lists, one of them retried, 1 count)", got)
		}
	})
}

// TestCleanupProblemsAreLogged: a lease that cannot be released and a run
// record that cannot be saved are logged for the operator (the run's work
// itself stands); a lease found already taken over needs no warning.
func TestCleanupProblemsAreLogged(t *testing.T) {
	for _, tt := range []struct {
		name      string
		fault     func(op string) error
		release   bool // a release warning is wanted
		runRecord bool // a run record error is wanted
	}{
		{"all fine", func(string) error { return nil }, false, false},
		{"release fails", func(op string) error {
			if op == "ReleaseLease" {
				return errors.New("dynamodb: 500")
			}
			return nil
		}, true, false},
		{"lease already lost", func(op string) error {
			if op == "ReleaseLease" {
				return store.ErrLeaseLost
			}
			return nil
		}, false, false},
		{"run record fails", func(op string) error {
			if op == "PutRun" {
				return errors.New("dynamodb: 500")
			}
			return nil
		}, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			logs := e.logTo()
			e.seed(2)
			e.st.Fail(tt.fault)
			if rep := e.run(t, ModeFull); rep.Status != StatusComplete {
				t.Fatalf("report %s %s, want complete", rep.Status, rep.Error)
			}
			rel := logs.Containing("release lease")
			if got := len(rel) == 1 && rel[0].Level == slog.LevelWarn && rel[0].Attrs["err"] != ""; got != tt.release || (!tt.release && len(rel) > 0) {
				t.Errorf("release warnings %+v, want one: %v", rel, tt.release)
			}
			rr := logs.Containing("save run record")
			if got := len(rr) == 1 && rr[0].Level == slog.LevelError; got != tt.runRecord || (!tt.runRecord && len(rr) > 0) {
				t.Errorf("run record errors %+v, want one: %v", rr, tt.runRecord)
			}
		})
	}
}

// TestMarginIsCappedAtAQuarterOfTheInvocation: a margin longer than the
// invocation keeps only a quarter of the time left in reserve, so a short
// invocation still works (here, the whole sync) instead of stopping at once.
func TestMarginIsCappedAtAQuarterOfTheInvocation(t *testing.T) {
	e := newEnv(t)
	e.seed(7)
	e.in.margin = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	rep, err := e.in.Run(ctx, ModeFull)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != StatusComplete || rep.Totals.Pages != 3 || rep.Totals.Written != 4 {
		t.Errorf("report %s %q %+v, want the sync done within three quarters of the invocation", rep.Status, rep.Message, rep.Totals)
	}
}

// TestDeadlineMarginDefault: without WithDeadlineMargin a poll keeps the
// documented 30 s before the invocation deadline (one page's lookups, bulk
// write and checkpoint); the option replaces it.
func TestDeadlineMarginDefault(t *testing.T) {
	st, hs, up := newFakeStore(), newFakeHubSpot(), &fakeUserpilot{}
	cfg := InboundConfig{Env: "production", Objects: []Object{usersObject()}}
	in, err := NewInbound(st, hs, up, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if in.margin != 30*time.Second {
		t.Errorf("default deadline margin %s, want 30s", in.margin)
	}
	if in, err = NewInbound(st, hs, up, cfg, WithDeadlineMargin(time.Minute)); err != nil || in.margin != time.Minute {
		t.Errorf("WithDeadlineMargin(1m): margin %s (%v), want 1m", in.margin, err)
	}
}
