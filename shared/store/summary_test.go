package store

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// batchSessions is the reference: sort the times and split on gaps longer
// than timeout.
func batchSessions(ms []int64, timeout time.Duration) []Session {
	ms = slices.Clone(ms)
	slices.Sort(ms)
	var out []Session
	for _, t := range ms {
		if n := len(out); n > 0 && t-out[n-1].End <= timeout.Milliseconds() {
			out[n-1].End = t
			continue
		}
		out = append(out, Session{Start: t, End: t})
	}
	return out
}

func TestAddToSessionsOrderIndependent(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	timeout := 30 * time.Minute
	for trial := range 300 {
		n := 1 + rng.IntN(60)
		base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
		ms := make([]int64, n)
		for i := range ms {
			ms[i] = base + rng.Int64N(int64(6*time.Hour/time.Millisecond))
		}
		var got []Session
		for _, i := range rng.Perm(n) {
			got = addToSessions(got, ms[i], timeout)
		}
		if want := batchSessions(ms, timeout); !slices.Equal(got, want) {
			t.Fatalf("trial %d: sessions\n got %v\nwant %v", trial, got, want)
		}
	}
}

func TestActivitySummary(t *testing.T) {
	t.Parallel()
	s := newStore(t).WithActivitySummary(30*time.Minute, 40)
	ctx := t.Context()
	day := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return day.Add(48 * time.Hour) }
	ev := func(user, company string, at time.Time, n int, c ActivityContext) ActivityDelta {
		return ActivityDelta{Kind: KindUser, ID: user, CompanyID: company, Day: at.Format(dayLayout),
			Events: 1, FirstSeen: at, LastSeen: at, EventIDs: []string{fmt.Sprintf("user:%s-%d", user, n)}, Context: c}
	}
	web := ActivityContext{Hostname: "app.example.com", Pathname: "/home", CountryCode: "DE", Browser: "Firefox"}
	later := ActivityContext{Hostname: "app.example.com", Pathname: "/billing", CountryCode: "FR"}
	deltas := []ActivityDelta{
		// u1: two sessions (gap of 2h), the latest context from 11:10.
		ev("u1", "c1", day.Add(2*time.Hour+10*time.Minute), 4, later),
		ev("u1", "c1", day, 1, web),
		ev("u1", "c1", day.Add(10*time.Minute), 2, ActivityContext{}),
		ev("u1", "c1", day.Add(2*time.Hour), 3, web),
		// u2: one session of one event.
		ev("u2", "c1", day.Add(5*time.Minute), 1, ActivityContext{Browser: "Safari"}),
	}
	// A session_start counts as activity but not as an event.
	ss := ev("u2", "c1", day.Add(6*time.Minute), 2, ActivityContext{})
	ss.Events, ss.Sessions = 0, 1
	deltas = append(deltas, ss)
	if err := s.AddActivity(ctx, "production", deltas); err != nil {
		t.Fatalf("AddActivity: %v", err)
	}
	// A redelivery changes nothing.
	if err := s.AddActivity(ctx, "production", deltas[:3]); err != nil {
		t.Fatalf("AddActivity again: %v", err)
	}
	allow := SessionLastEventAllowance.Milliseconds()
	d := day.Format(dayLayout)
	u1, err := s.GetActivitySummary(ctx, "production", KindUser, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := *u1.Days[d], (DaySummary{Events: 4, Active: 4, Sessions: 2, TimeMs: 10*60*1000 + 10*60*1000 + 2*allow,
		FirstMs: day.UnixMilli(), LastMs: day.Add(2*time.Hour + 10*time.Minute).UnixMilli()}); got != want {
		t.Errorf("u1 day = %+v, want %+v", got, want)
	}
	if got := u1.Context[ContextPage].Value; got != "app.example.com/billing" {
		t.Errorf("u1 page = %q", got)
	}
	if got := u1.Context[ContextBrowser].Value; got != "Firefox" {
		t.Errorf("u1 browser = %q, want the latest event that had one", got)
	}
	co, err := s.GetActivitySummary(ctx, "production", KindCompany, "c1")
	if err != nil {
		t.Fatal(err)
	}
	want := DaySummary{Events: 5, Active: 6, Sessions: 3, TimeMs: 20*60*1000 + 2*allow + (60*1000 + allow),
		FirstMs: day.UnixMilli(), LastMs: day.Add(2*time.Hour + 10*time.Minute).UnixMilli()}
	if got := *co.Days[d]; got != want {
		t.Errorf("company day = %+v, want the sum of its users %+v", got, want)
	}
	if len(co.Sessions) != 0 {
		t.Errorf("company keeps sessions %v; its counts come from its users", co.Sessions)
	}

	// Sent values are kept apart from activity, and listing finds both kinds.
	if err := s.PutMeasuredSent(ctx, "production", KindUser, "u1", "101", map[string]string{"x": "1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddActivity(ctx, "production", []ActivityDelta{ev("u1", "c1", day.Add(3*time.Hour), 9, ActivityContext{})}); err != nil {
		t.Fatal(err)
	}
	u1, _ = s.GetActivitySummary(ctx, "production", KindUser, "u1")
	if u1.Sent["x"] != "1" || u1.SentTo != "101" || u1.Days[d].Events != 5 {
		t.Errorf("after more activity: sent %v to %q, events %d", u1.Sent, u1.SentTo, u1.Days[d].Events)
	}
	found := map[string]bool{}
	for _, kind := range []Kind{KindUser, KindCompany} {
		for shard := range SummaryShards {
			after := ""
			for {
				page, next, err := s.ActivitySummaries(ctx, "production", kind, shard, after, 1)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range page {
					found[string(kind)+"/"+p.ID] = true
				}
				if next == "" {
					break
				}
				after = next
			}
		}
	}
	if len(found) != 3 || !found["user/u1"] || !found["user/u2"] || !found["company/c1"] {
		t.Errorf("listed %v", found)
	}
}
