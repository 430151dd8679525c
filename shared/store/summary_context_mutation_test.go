package store

import (
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
