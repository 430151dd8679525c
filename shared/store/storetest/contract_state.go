package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/store"
)

func testCursors(t *testing.T, s Store) {
	ctx := t.Context()
	if v, err := s.GetCursor(ctx, env, "c"); err != nil || v != "" {
		t.Errorf("unset cursor %q, %v; want empty", v, err)
	}
	if err := s.PutCursor(ctx, env, "c", "v1"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCursor(ctx, env, "c", "v2"); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.GetCursor(ctx, env, "c"); v != "v2" {
		t.Errorf("cursor %q, want v2 (last write wins)", v)
	}
	if v, _ := s.GetCursor(ctx, "staging", "c"); v != "" {
		t.Errorf("staging cursor %q, want empty", v)
	}
	if err := s.PutCursor(ctx, env, "", "x"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("empty cursor name: %v, want ErrInvalid", err)
	}
	// Leased: stored only while the owner holds the live lease.
	if err := s.PutCursorLeased(ctx, env, "c", "v3", "job", "run1"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("no lease: %v, want ErrLeaseLost", err)
	}
	if err := s.AcquireLease(ctx, env, "job", "run1", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCursorLeased(ctx, env, "c", "v3", "job", "run1"); err != nil {
		t.Errorf("holder: %v", err)
	}
	if err := s.PutCursorLeased(ctx, env, "c", "v4", "job", "run2"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("another owner: %v, want ErrLeaseLost", err)
	}
	if err := s.AcquireLease(ctx, env, "short", "run1", 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := s.PutCursorLeased(ctx, env, "c", "v5", "short", "run1"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("expired lease: %v, want ErrLeaseLost", err)
	}
	if v, _ := s.GetCursor(ctx, env, "c"); v != "v3" {
		t.Errorf("cursor %q, want v3 (only the holder's write landed)", v)
	}
	if err := s.PutCursorLeased(ctx, env, "c", "v", "job", ""); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("empty owner: %v, want ErrInvalid", err)
	}
}

func testLeases(t *testing.T, s Store) {
	ctx := t.Context()
	if err := s.AcquireLease(ctx, env, "job", "a", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.AcquireLease(ctx, env, "job", "a", time.Minute); err != nil {
		t.Errorf("re-acquire by the holder: %v", err)
	}
	if err := s.AcquireLease(ctx, env, "job", "b", time.Minute); !errors.Is(err, store.ErrLeaseHeld) {
		t.Errorf("acquire a held lease: %v, want ErrLeaseHeld", err)
	}
	if err := s.AcquireLease(ctx, "staging", "job", "b", time.Minute); err != nil {
		t.Errorf("same name in another environment: %v", err)
	}
	if err := s.RenewLease(ctx, env, "job", "b", time.Minute); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("renew by another owner: %v, want ErrLeaseLost", err)
	}
	if err := s.RenewLease(ctx, env, "job", "a", time.Minute); err != nil {
		t.Errorf("renew by the holder: %v", err)
	}
	if err := s.ReleaseLease(ctx, env, "job", "b"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("release by another owner: %v, want ErrLeaseLost", err)
	}
	if err := s.ReleaseLease(ctx, env, "job", "a"); err != nil {
		t.Errorf("release: %v", err)
	}
	if err := s.ReleaseLease(ctx, env, "job", "a"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("release a free lease: %v, want ErrLeaseLost", err)
	}
	if err := s.AcquireLease(ctx, env, "job", "b", 50*time.Millisecond); err != nil {
		t.Errorf("acquire a released lease: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := s.RenewLease(ctx, env, "job", "b", time.Minute); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("renew an expired lease: %v, want ErrLeaseLost", err)
	}
	if err := s.AcquireLease(ctx, env, "job", "c", time.Minute); err != nil {
		t.Errorf("take over an expired lease: %v", err)
	}
	if err := s.AcquireLease(ctx, env, "", "c", time.Minute); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("empty lease name: %v, want ErrInvalid", err)
	}
}

func testEnabledAt(t *testing.T, s Store) {
	ctx := t.Context()
	first, err := s.EnabledAt(ctx, env, t0)
	if err != nil || !first.Equal(t0) {
		t.Fatalf("first %v %v, want %v", first, err, t0)
	}
	if got, err := s.EnabledAt(ctx, env, t0.Add(time.Hour)); err != nil || !got.Equal(t0) {
		t.Errorf("second %v %v, want the first time kept", got, err)
	}
	if got, _ := s.EnabledAt(ctx, "staging", t0.Add(time.Hour)); !got.Equal(t0.Add(time.Hour)) {
		t.Errorf("staging %v, want its own", got)
	}
	if _, err := s.EnabledAt(ctx, "", t0); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("empty env: %v, want ErrInvalid", err)
	}
}

func testProblems(t *testing.T, s Store) {
	ctx := t.Context()
	open := func(at time.Time) bool {
		t.Helper()
		n, err := s.OpenProblem(ctx, env, "auth", "token rejected", at, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if !open(t0) {
		t.Error("first open: want notify")
	}
	if open(t0.Add(30 * time.Minute)) {
		t.Error("open again within the hour: want no notify")
	}
	if !open(t0.Add(time.Hour)) {
		t.Error("open after the hour: want notify")
	}
	if was, err := s.CloseProblem(ctx, env, "auth"); err != nil || !was {
		t.Errorf("close: %v %v, want was open", was, err)
	}
	if was, err := s.CloseProblem(ctx, env, "auth"); err != nil || was {
		t.Errorf("close again: %v %v, want not open", was, err)
	}
	if !open(t0.Add(time.Hour + time.Minute)) {
		t.Error("open after close: want notify")
	}
	if _, err := s.OpenProblem(ctx, env, "", "x", t0, time.Hour); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("empty key: %v, want ErrInvalid", err)
	}
}

func testLedger(t *testing.T, s Store) {
	ctx := t.Context()
	if err := s.LedgerRecord(ctx, env, []string{"e1", "e2", "e1"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.LedgerRecord(ctx, env, []string{"old"}, -time.Second); err != nil {
		t.Fatal(err)
	}
	seen, err := s.LedgerSeen(ctx, env, []string{"e1", "e2", "e3", "old", "e1"})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seen) != "map[e1:true e2:true e3:false old:false]" {
		t.Errorf("seen %v, want e1 and e2 (old is expired)", seen)
	}
	if seen, _ := s.LedgerSeen(ctx, "staging", []string{"e1"}); seen["e1"] {
		t.Error("staging sees production's ledger")
	}
	// Recording again extends the expiry.
	if err := s.LedgerRecord(ctx, env, []string{"old"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if seen, _ := s.LedgerSeen(ctx, env, []string{"old"}); !seen["old"] {
		t.Error("re-recorded id not seen")
	}
	if _, err := s.LedgerSeen(ctx, env, []string{""}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("empty id: %v, want ErrInvalid", err)
	}
}

func testActivity(t *testing.T, s Store) {
	ctx := t.Context()
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	d := func(day string, ev int64, ids ...string) store.ActivityDelta {
		return store.ActivityDelta{Kind: store.KindUser, ID: "u1", Day: day, Events: ev, Sessions: 1, TimeSpentSeconds: 10,
			FirstSeen: at.Add(time.Duration(ev) * time.Minute), LastSeen: at.Add(time.Duration(ev) * time.Minute), EventIDs: ids}
	}
	if err := s.AddActivity(ctx, env, []store.ActivityDelta{d("2026-11-02", 1, "a"), d("2026-11-02", 2, "b"), d("2026-11-03", 4, "c")}); err != nil {
		t.Fatal(err)
	}
	// Redelivered a and b, a new d, and a repeat of d inside the same call:
	// only d counts, once.
	if err := s.AddActivity(ctx, env, []store.ActivityDelta{d("2026-11-02", 1, "a"), d("2026-11-02", 8, "d"), d("2026-11-02", 8, "d"), d("2026-11-02", 2, "b")}); err != nil {
		t.Fatal(err)
	}
	// Without event ids a delta is applied every time.
	for range 2 {
		if err := s.AddActivity(ctx, env, []store.ActivityDelta{{Kind: store.KindUser, ID: "u1", Day: "2026-11-04", Events: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Activity(ctx, env, store.KindUser, "u1", "2026-11-01", "2026-11-03")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d days %+v, want 2", len(got), got)
	}
	g := got[0]
	if g.Day != "2026-11-02" || g.Events != 11 || g.Sessions != 3 || g.TimeSpentSeconds != 30 ||
		!g.FirstSeen.Equal(at.Add(time.Minute)) || !g.LastSeen.Equal(at.Add(8*time.Minute)) {
		t.Errorf("day 2 %+v, want 11 events 3 sessions 30s, seen 09:01-09:08", g)
	}
	if got[1].Day != "2026-11-03" || got[1].Events != 4 {
		t.Errorf("day 3 %+v", got[1])
	}
	if all, _ := s.Activity(ctx, env, store.KindUser, "u1", "2026-11-04", "2026-11-04"); len(all) != 1 || all[0].Events != 2 {
		t.Errorf("day 4 %+v, want 2 events", all)
	}
	if other, _ := s.Activity(ctx, env, store.KindCompany, "u1", "2026-11-01", "2026-11-30"); len(other) != 0 {
		t.Errorf("company u1 has %+v, want nothing", other)
	}
	if err := s.AddActivity(ctx, env, []store.ActivityDelta{{Kind: store.KindUser, ID: "u1", Day: "2026-13-01"}}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("bad day: %v, want ErrInvalid", err)
	}
	many := make([]string, 100)
	for i := range many {
		many[i] = fmt.Sprint("m", i)
	}
	if err := s.AddActivity(ctx, env, []store.ActivityDelta{{Kind: store.KindUser, ID: "u1", Day: "2026-11-05", EventIDs: many}}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("100 event ids: %v, want ErrInvalid", err)
	}
	if _, err := s.Activity(ctx, env, store.KindUser, "u1", "nope", "2026-11-05"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("bad range: %v, want ErrInvalid", err)
	}
}

func testRuns(t *testing.T, s Store) {
	ctx := t.Context()
	run := func(id string, start time.Time) store.RunRecord {
		return store.RunRecord{Env: env, Job: "inbound", ID: id, Started: start, Finished: start.Add(time.Second),
			Counts: map[string]int64{"read": 3}, APICalls: map[string]int64{"hubspot": 2},
			Failures: []store.Failure{{Record: "users/u1", Field: "plan", Reason: "bad"}}}
	}
	for i, id := range []string{"r1", "r2", "r3"} {
		if err := s.PutRun(ctx, run(id, t0.Add(time.Duration(i)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	// Saving again replaces.
	r2 := run("r2", t0.Add(time.Minute))
	r2.Error = "boom"
	if err := s.PutRun(ctx, r2); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListRuns(ctx, env, "inbound", 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range got {
		ids = append(ids, r.ID)
	}
	if strings.Join(ids, ",") != "r3,r2,r1" || got[1].Error != "boom" || got[0].Counts["read"] != 3 ||
		got[0].APICalls["hubspot"] != 2 || got[0].Failures[0].Field != "plan" || !got[2].Started.Equal(t0) || got[0].Env != env {
		t.Errorf("runs %+v, want r3,r2,r1 newest first with r2 replaced", got)
	}
	if two, _ := s.ListRuns(ctx, env, "inbound", 2); len(two) != 2 || two[0].ID != "r3" {
		t.Errorf("limit 2: %+v", two)
	}
	big := run("big", t0.Add(time.Hour))
	big.Failures = make([]store.Failure, 700)
	if err := s.PutRun(ctx, big); err != nil {
		t.Fatal(err)
	}
	top, _ := s.ListRuns(ctx, env, "inbound", 1)
	if len(top) != 1 || len(top[0].Failures) != 500 || top[0].Failures[499].Reason != "201 more failures not stored" {
		t.Errorf("capped failures: %d, last %+v", len(top[0].Failures), top[0].Failures[len(top[0].Failures)-1])
	}
	if err := s.PutRun(ctx, store.RunRecord{Env: env, Job: "inbound"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("run without id: %v, want ErrInvalid", err)
	}
}

// calls lists one call of every method, for the context and fault tests.
// Each returns the call's error.
func calls(s Store) map[string]func(ctx context.Context) error {
	p := func(id string) *store.Profile {
		return &store.Profile{Env: env, Kind: store.KindUser, ID: id, MatchValue: id + "@x.com"}
	}
	return map[string]func(ctx context.Context) error{
		"GetProfile": func(ctx context.Context) error {
			_, err := s.GetProfile(ctx, env, store.KindUser, "seed")
			return err
		},
		"GetProfiles": func(ctx context.Context) error {
			_, err := s.GetProfiles(ctx, env, store.KindUser, []string{"seed"})
			return err
		},
		"PutProfile":  func(ctx context.Context) error { return s.PutProfile(ctx, p("new1")) },
		"PutProfiles": func(ctx context.Context) error { return s.PutProfiles(ctx, []*store.Profile{p("new2"), p("new3")}) },
		"MergeIdentify": func(ctx context.Context) error {
			_, err := s.MergeIdentify(ctx, env, store.KindUser, "new4", store.IdentifyInput{Properties: map[string]any{"plan": "x"}})
			return err
		},
		"LookupByMatch": func(ctx context.Context) error {
			_, err := s.LookupByMatch(ctx, env, store.KindUser, []string{"seed@x.com"})
			return err
		},
		"LookupByHubSpotID": func(ctx context.Context) error {
			_, err := s.LookupByHubSpotID(ctx, env, store.KindUser, []string{"1"})
			return err
		},
		"DirtyProfiles": func(ctx context.Context) error {
			for _, err := range s.DirtyProfiles(ctx, env, store.KindUser) {
				if err != nil {
					return err
				}
			}
			return nil
		},
		"GetCursor": func(ctx context.Context) error {
			_, err := s.GetCursor(ctx, env, "c")
			return err
		},
		"PutCursor":       func(ctx context.Context) error { return s.PutCursor(ctx, env, "c", "v") },
		"PutCursorLeased": func(ctx context.Context) error { return s.PutCursorLeased(ctx, env, "c", "v", "held", "me") },
		"AcquireLease":    func(ctx context.Context) error { return s.AcquireLease(ctx, env, "free", "me", time.Minute) },
		"RenewLease":      func(ctx context.Context) error { return s.RenewLease(ctx, env, "held", "me", time.Minute) },
		"ReleaseLease":    func(ctx context.Context) error { return s.ReleaseLease(ctx, env, "held", "me") },
		"EnabledAt": func(ctx context.Context) error {
			_, err := s.EnabledAt(ctx, env, t0)
			return err
		},
		"OpenProblem": func(ctx context.Context) error {
			_, err := s.OpenProblem(ctx, env, "new", "s", t0, time.Hour)
			return err
		},
		"CloseProblem": func(ctx context.Context) error {
			_, err := s.CloseProblem(ctx, env, "open")
			return err
		},
		"LedgerSeen": func(ctx context.Context) error {
			_, err := s.LedgerSeen(ctx, env, []string{"e1"})
			return err
		},
		"LedgerRecord": func(ctx context.Context) error { return s.LedgerRecord(ctx, env, []string{"e1"}, time.Hour) },
		"AddActivity": func(ctx context.Context) error {
			return s.AddActivity(ctx, env, []store.ActivityDelta{{Kind: store.KindUser, ID: "seed", Day: "2026-11-02", Events: 1, EventIDs: []string{"a1"}, LastSeen: t0}})
		},
		"Activity": func(ctx context.Context) error {
			_, err := s.Activity(ctx, env, store.KindUser, "seed", "2026-11-01", "2026-11-30")
			return err
		},
		"PutRun": func(ctx context.Context) error {
			return s.PutRun(ctx, store.RunRecord{Env: env, Job: "inbound", ID: "r1", Started: t0})
		},
		"ListRuns": func(ctx context.Context) error {
			_, err := s.ListRuns(ctx, env, "inbound", 0)
			return err
		},
	}
}

// seed writes what calls' entries act on: a profile, a held lease, an open
// problem.
func seed(t *testing.T, s Store) {
	t.Helper()
	ctx := t.Context()
	mustPut(t, s, &store.Profile{Env: env, Kind: store.KindUser, ID: "seed", MatchValue: "seed@x.com"})
	if err := s.AcquireLease(ctx, env, "held", "me", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenProblem(ctx, env, "open", "s", t0, time.Hour); err != nil {
		t.Fatal(err)
	}
}

// unchanged checks that nothing calls' writes would store was stored.
func unchanged(t *testing.T, s Store, what string) {
	t.Helper()
	ctx := t.Context()
	for _, id := range []string{"new1", "new2", "new3", "new4"} {
		if _, err := s.GetProfile(ctx, env, store.KindUser, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: profile %s stored (%v)", what, id, err)
		}
	}
	if v, err := s.GetCursor(ctx, env, "c"); err != nil || v != "" {
		t.Errorf("%s: cursor %q (%v), want none", what, v, err)
	}
	if err := s.AcquireLease(ctx, env, "free", "other", time.Minute); err != nil {
		t.Errorf("%s: the free lease was taken: %v", what, err)
	}
	if err := s.AcquireLease(ctx, env, "held", "other", time.Minute); !errors.Is(err, store.ErrLeaseHeld) {
		t.Errorf("%s: the held lease was released: %v", what, err)
	}
	if at, err := s.EnabledAt(ctx, env, t0.Add(time.Hour)); err != nil || !at.Equal(t0.Add(time.Hour)) {
		t.Errorf("%s: enabled time %v (%v) was recorded", what, at, err)
	}
	if n, err := s.OpenProblem(ctx, env, "new", "s", t0, time.Hour); err != nil || !n {
		t.Errorf("%s: problem was opened (notify %v, %v)", what, n, err)
	}
	if was, err := s.CloseProblem(ctx, env, "open"); err != nil || !was {
		t.Errorf("%s: problem was closed (%v, %v)", what, was, err)
	}
	if seen, err := s.LedgerSeen(ctx, env, []string{"e1"}); err != nil || seen["e1"] {
		t.Errorf("%s: ledger entry recorded (%v)", what, err)
	}
	if days, err := s.Activity(ctx, env, store.KindUser, "seed", "2026-11-01", "2026-11-30"); err != nil || len(days) != 0 {
		t.Errorf("%s: activity %+v (%v), want none", what, days, err)
	}
	if runs, err := s.ListRuns(ctx, env, "inbound", 0); err != nil || len(runs) != 0 {
		t.Errorf("%s: runs %+v (%v), want none", what, runs, err)
	}
}

// testContext: a cancelled or expired context fails every call and stores
// nothing, as the SDK does.
func testContext(t *testing.T, s Store) {
	seed(t, s)
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	expired, cancel2 := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel2()
	for name, call := range calls(s) {
		if err := call(cancelled); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: err %v, want context.Canceled", name, err)
		}
		if err := call(expired); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s with an expired context: err %v, want context.DeadlineExceeded", name, err)
		}
	}
	unchanged(t, s, "after cancelled calls")
}
