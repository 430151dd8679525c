package store

import (
	"slices"
	"testing"
	"time"
)

// TestSummaryContextLatestWinsTiesToLarger: a summary's context keeps the
// latest event's value whatever the order events arrive in; two events of
// the same millisecond settle on the larger value, again in either order;
// a day's first and last seen are its earliest and latest events.
func TestSummaryContextLatestWinsTiesToLarger(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	ev := func(d time.Duration, country string) summaryEvent {
		return summaryEvent{at: at.Add(d), events: 1, ctx: ActivityContext{CountryCode: country}}
	}
	for _, tc := range []struct {
		name   string
		events []summaryEvent
		want   string
	}{
		{"later event, smaller value", []summaryEvent{ev(0, "US"), ev(time.Minute, "DE")}, "DE"},
		{"later event first", []summaryEvent{ev(time.Minute, "DE"), ev(0, "US")}, "DE"},
		{"tie, larger last", []summaryEvent{ev(0, "DE"), ev(0, "US")}, "US"},
		{"tie, larger first", []summaryEvent{ev(0, "US"), ev(0, "DE")}, "US"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &ActivitySummary{Kind: KindUser, ID: "u1"}
			for _, e := range tc.events {
				s.addEvent(e)
			}
			if got := s.Context[ContextCountryCode].Value; got != tc.want {
				t.Errorf("country %q, want %q", got, tc.want)
			}
		})
	}
	s := &ActivitySummary{Kind: KindUser, ID: "u1"}
	for _, d := range []time.Duration{time.Hour, 0, 2 * time.Hour, time.Minute} {
		s.addEvent(ev(d, "US"))
	}
	day := s.Days[at.Format(dayLayout)]
	if day == nil || day.FirstMs != at.UnixMilli() || day.LastMs != at.Add(2*time.Hour).UnixMilli() || day.Active != 4 || day.Events != 4 {
		t.Errorf("day %+v, want first %d, last %d, 4 active, 4 events", day, at.UnixMilli(), at.Add(2*time.Hour).UnixMilli())
	}
}

// TestSummarySessionsAcrossBatches: sessions split at gaps longer than the
// timeout (a gap of exactly the timeout joins), in whatever order events
// arrive; each batch adds only the difference it makes to the day's
// session count and time (a session lasts from its first event to its last
// plus SessionLastEventAllowance), so a late event that joins two sessions
// takes one away.
func TestSummarySessionsAcrossBatches(t *testing.T) {
	const timeout = 30 * time.Minute
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	allow := SessionLastEventAllowance.Milliseconds()
	s := &ActivitySummary{Kind: KindUser, ID: "u1"}
	batch := func(offsets ...time.Duration) {
		before := sessionStats(s.Sessions)
		for _, d := range offsets {
			s.addEvent(summaryEvent{at: t0.Add(d), events: 1})
			s.Sessions = addToSessions(s.Sessions, t0.Add(d).UnixMilli(), timeout)
		}
		s.applySessionStats(statsDiff(before, sessionStats(s.Sessions)))
	}
	day := func() *DaySummary { return s.Days[t0.Format(dayLayout)] }
	min := time.Minute.Milliseconds()

	// 10:00 and 10:30 (exactly the timeout apart) are one session; 11:10
	// (40 minutes after) starts another; 12:00 arrives first.
	batch(2*time.Hour, 0, 30*time.Minute, 70*time.Minute)
	if d := day(); d.Sessions != 3 || d.TimeMs != 30*min+3*allow {
		t.Fatalf("after the first batch: %d sessions, %d ms; want 3 and %d", d.Sessions, d.TimeMs, 30*min+3*allow)
	}
	// 10:50 joins 10:30 and 11:10 (20 minutes each way): two sessions left,
	// 10:00-11:10 and 12:00.
	batch(50 * time.Minute)
	if d := day(); d.Sessions != 2 || d.TimeMs != 70*min+2*allow {
		t.Fatalf("after 10:50: %d sessions, %d ms; want 2 and %d", d.Sessions, d.TimeMs, 70*min+2*allow)
	}
	batch(90 * time.Minute) // 11:30: exactly the timeout before 12:00
	if d := day(); d.Sessions != 1 || d.TimeMs != 120*min+allow {
		t.Fatalf("after 11:30: %d sessions, %d ms; want 1 and %d", d.Sessions, d.TimeMs, 120*min+allow)
	}
	if len(s.Sessions) != 1 || s.Sessions[0].Start != t0.UnixMilli() || s.Sessions[0].End != t0.Add(2*time.Hour).UnixMilli() {
		t.Errorf("sessions %+v, want one from 10:00 to 12:00", s.Sessions)
	}
}

// TestSessionStatsOfANewDayBesideQuietDays: a batch that starts a session
// on a new day, for a user with sessions on many earlier days, counts that
// session (one, of 30 seconds: a one-event session lasts
// SessionLastEventAllowance) whatever order the days' differences are
// applied in, and leaves the earlier days as they were. (Stopping at the
// first day with no difference, instead of skipping it, lost the new day's
// session in most orders.)
func TestSessionStatsOfANewDayBesideQuietDays(t *testing.T) {
	const timeout = 30 * time.Minute
	start := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	// Go orders a map's iteration anew on every range, so each round applies
	// the 21 days' differences in another order.
	for round := range 20 {
		s := &ActivitySummary{Kind: KindUser, ID: "u1"}
		add := func(at time.Time) {
			before := sessionStats(s.Sessions)
			s.addEvent(summaryEvent{at: at, events: 1})
			s.Sessions = addToSessions(s.Sessions, at.UnixMilli(), timeout)
			s.applySessionStats(statsDiff(before, sessionStats(s.Sessions)))
		}
		for d := range 20 {
			add(start.AddDate(0, 0, d))
		}
		add(start.AddDate(0, 0, 20))
		for d := range 21 {
			day := s.Days[start.AddDate(0, 0, d).Format(dayLayout)]
			if day == nil || day.Sessions != 1 || day.TimeMs != 30_000 {
				t.Fatalf("round %d, day %d: %+v, want 1 session of 30000 ms", round, d, day)
			}
		}
	}
}

// TestPruneKeepsTheCutoffDay: prune drops the days and sessions that
// started before the cutoff day and keeps those of the cutoff day and
// after.
func TestPruneKeepsTheCutoffDay(t *testing.T) {
	s := &ActivitySummary{Kind: KindUser, ID: "u1", Days: map[string]*DaySummary{}}
	var want []Session
	for i, d := range []string{"2026-11-28", "2026-11-29", "2026-11-30", "2026-12-01"} {
		at, err := time.Parse(dayLayout, d)
		if err != nil {
			t.Fatal(err)
		}
		ms := at.Add(23 * time.Hour).UnixMilli() // late in the day: the day, not the hour, decides
		s.Days[d] = &DaySummary{Events: 1, Sessions: 1, FirstMs: ms, LastMs: ms}
		s.Sessions = append(s.Sessions, Session{Start: ms, End: ms})
		if i >= 2 {
			want = append(want, Session{Start: ms, End: ms})
		}
	}
	s.prune("2026-11-30")
	var days []string
	for d := range s.Days {
		days = append(days, d)
	}
	slices.Sort(days)
	if !slices.Equal(days, []string{"2026-11-30", "2026-12-01"}) {
		t.Errorf("days after pruning at 2026-11-30: %v, want 2026-11-30 and 2026-12-01", days)
	}
	if !slices.Equal(s.Sessions, want) {
		t.Errorf("sessions after pruning: %+v, want %+v", s.Sessions, want)
	}
}
