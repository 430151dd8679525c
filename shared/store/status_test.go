package store

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestNamesIndex checks that the writers of run records, cursors, leases and
// problems list their names, so status finds them without a scan, and that a
// closed problem leaves the index.
func TestNamesIndex(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	now := time.Now()
	for _, job := range []string{"inbound", "outbound", "inbound"} {
		if err := s.PutRun(ctx, RunRecord{Env: "production", Job: job, ID: "r-" + job, Started: now, Finished: now}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutRun(ctx, RunRecord{Env: "staging", Job: "measured", ID: "r1", Started: now, Finished: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCursor(ctx, "production", "inbound:users:contacts", `{"since_ms":1}`); err != nil {
		t.Fatal(err)
	}
	if err := s.AcquireLease(ctx, "production", "inbound", "run-1", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCursorLeased(ctx, "production", "inbound:companies:companies", "v", "inbound", "run-1"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"inbound/users/hubspot_auth", "activity/dead_lettered/rejected"} {
		if _, err := s.OpenProblem(ctx, "production", k, "summary of "+k, now, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if open, err := s.CloseProblem(ctx, "production", "inbound/users/hubspot_auth"); err != nil || !open {
		t.Fatalf("CloseProblem = %v, %v; want true, nil", open, err)
	}

	tests := []struct {
		env, what string
		want      []string
	}{
		{"production", NamesJob, []string{"inbound", "outbound"}},
		{"staging", NamesJob, []string{"measured"}},
		{"production", NamesCursor, []string{"inbound:companies:companies", "inbound:users:contacts"}},
		{"production", NamesLease, []string{"inbound"}},
		{"production", NamesProblem, []string{"activity/dead_lettered/rejected"}},
		{"staging", NamesCursor, nil},
	}
	for _, tt := range tests {
		got, err := s.Names(ctx, tt.env, tt.what)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Names(%s, %s) = %v, %v; want %v", tt.env, tt.what, got, err, tt.want)
		}
	}

	c, err := s.CursorInfo(ctx, "production", "inbound:users:contacts")
	if err != nil || c.Value != `{"since_ms":1}` || time.Since(c.At) > time.Minute {
		t.Errorf("CursorInfo = %+v, %v", c, err)
	}
	if _, err := s.CursorInfo(ctx, "production", "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("CursorInfo(nope) err = %v, want ErrNotFound", err)
	}
	l, err := s.Lease(ctx, "production", "inbound")
	if err != nil || l.Owner != "run-1" || !l.Until.After(now) {
		t.Errorf("Lease = %+v, %v; want run-1 until after now", l, err)
	}
	if err := s.ReleaseLease(ctx, "production", "inbound", "run-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lease(ctx, "production", "inbound"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lease after release err = %v, want ErrNotFound", err)
	}
	ps, err := s.Problems(ctx, "production", []string{"activity/dead_lettered/rejected", "inbound/users/hubspot_auth"})
	if err != nil || len(ps) != 1 || ps[0].Key != "activity/dead_lettered/rejected" || ps[0].Summary != "summary of activity/dead_lettered/rejected" || ps[0].Opened.IsZero() {
		t.Errorf("Problems = %+v, %v; want the one open problem", ps, err)
	}
}

// TestQuarantine checks the bounded summary and the retry of quarantined
// properties by reason on DynamoDB Local.
func TestQuarantine(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := t.Context()
	put := func(env string, kind Kind, id string, q map[string]string, dirty bool) {
		t.Helper()
		p := &Profile{Env: env, Kind: kind, ID: id, Quarantined: q, Dirty: dirty,
			Properties: map[string]Property{"plan": {Value: "pro", At: time.Now()}}}
		if err := s.PutProfile(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	put("production", KindUser, "u1", map[string]string{"plan": "type mismatch: number", "seats": "read-only property"}, false)
	put("production", KindUser, "u2", map[string]string{"plan": "type mismatch: number"}, false)
	put("production", KindCompany, "c1", map[string]string{"tier": "read-only property"}, false)
	put("staging", KindUser, "u1", map[string]string{"plan": "type mismatch: number"}, false)
	for i := range 30 {
		put("production", KindUser, fmt.Sprintf("clean-%d", i), nil, false)
	}

	sum, err := s.QuarantineSummary(ctx, "production", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Complete || sum.Profiles != 3 || sum.ByReason[KindUser]["type mismatch: number"] != 2 ||
		sum.ByReason[KindUser]["read-only property"] != 1 || sum.ByReason[KindCompany]["read-only property"] != 1 {
		t.Errorf("QuarantineSummary = %+v", sum)
	}
	part, err := s.QuarantineSummary(ctx, "production", 5)
	if err != nil {
		t.Fatal(err)
	}
	if part.Complete || part.Scanned < 5 || part.Scanned > 10 {
		t.Errorf("bounded QuarantineSummary = %+v, want incomplete after about 5 items", part)
	}

	dry, err := s.RetryQuarantined(ctx, "production", KindUser, "type mismatch", true)
	if err != nil || dry.Profiles != 2 || dry.Properties != 2 {
		t.Errorf("dry RetryQuarantined = %+v, %v; want 2 profiles", dry, err)
	}
	if p, _ := s.GetProfile(ctx, "production", KindUser, "u2"); len(p.Quarantined) != 1 || p.Dirty {
		t.Errorf("after dry run u2 = quarantined %v dirty %v; want unchanged", p.Quarantined, p.Dirty)
	}

	got, err := s.RetryQuarantined(ctx, "production", KindUser, "type mismatch", false)
	if err != nil || got.Profiles != 2 || got.Properties != 2 || got.ByReason["type mismatch: number"] != 2 {
		t.Errorf("RetryQuarantined = %+v, %v; want 2 profiles, 2 properties", got, err)
	}
	u1, _ := s.GetProfile(ctx, "production", KindUser, "u1")
	if !u1.Dirty || len(u1.Quarantined) != 1 || u1.Quarantined["seats"] != "read-only property" || u1.Properties["plan"].Value != "pro" {
		t.Errorf("u1 = dirty %v quarantined %v props %v; want dirty with seats still quarantined", u1.Dirty, u1.Quarantined, u1.Properties)
	}
	var dirty []string
	for p, err := range s.DirtyProfiles(ctx, "production", KindUser) {
		if err != nil {
			t.Fatal(err)
		}
		dirty = append(dirty, p.ID)
	}
	slices.Sort(dirty)
	if !slices.Equal(dirty, []string{"u1", "u2"}) {
		t.Errorf("dirty users = %v, want u1 u2 (the next push retries them)", dirty)
	}
	if st, _ := s.GetProfile(ctx, "staging", KindUser, "u1"); len(st.Quarantined) != 1 || st.Dirty {
		t.Errorf("staging u1 changed: %+v", st)
	}
	if c1, _ := s.GetProfile(ctx, "production", KindCompany, "c1"); len(c1.Quarantined) != 1 {
		t.Errorf("company c1 changed by a user retry: %+v", c1.Quarantined)
	}
	all, err := s.RetryQuarantined(ctx, "production", KindCompany, "", false)
	if err != nil || all.Profiles != 1 {
		t.Errorf("RetryQuarantined(all companies) = %+v, %v", all, err)
	}
}
