package measured

import (
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/store"
)

func TestPeriodOf(t *testing.T) {
	at := time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC)
	if got, want := PeriodOf(at, 30), (Period{From: "2026-01-31", To: "2026-03-01"}); got != want {
		t.Errorf("PeriodOf(30) = %+v, want %+v", got, want)
	}
	if got, want := PeriodOf(at, 1), (Period{From: "2026-03-01", To: "2026-03-01"}); got != want {
		t.Errorf("PeriodOf(1) = %+v, want %+v", got, want)
	}
}

func TestCompute(t *testing.T) {
	ms := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	sum := &store.ActivitySummary{
		Days: map[string]*store.DaySummary{
			"2026-02-27": {Events: 9, Active: 9, Sessions: 2, TimeMs: 99_000, FirstMs: ms("2026-02-27T01:00:00Z"), LastMs: ms("2026-02-27T02:00:00Z")}, // before the period
			"2026-02-28": {Events: 3, Active: 4, Sessions: 1, TimeMs: 61_999, FirstMs: ms("2026-02-28T10:00:00.750Z"), LastMs: ms("2026-02-28T10:01:00Z")},
			"2026-03-01": {Active: 1, FirstMs: ms("2026-03-01T00:10:00Z"), LastMs: ms("2026-03-01T00:10:00.999Z")},
		},
		Context: map[string]store.ContextValue{store.ContextPage: {Value: "app.example.com/x"}},
	}
	all := []string{config.MetricSessions, config.MetricEvents, config.MetricActiveDays, config.MetricTimeSpentSeconds,
		config.MetricFirstSeen, config.MetricLastSeen, config.MetricLastSeenDate, config.MetricLastPage, config.MetricBrowser}
	got := Compute(sum, Period{From: "2026-02-28", To: "2026-03-01"}, all)
	want := map[string]any{
		config.MetricSessions: int64(1), config.MetricEvents: int64(3), config.MetricActiveDays: int64(2),
		config.MetricTimeSpentSeconds: int64(61), // rounded down
		config.MetricFirstSeen:        time.Date(2026, 2, 28, 10, 0, 0, 0, time.UTC),
		config.MetricLastSeen:         time.Date(2026, 3, 1, 0, 10, 0, 0, time.UTC),
		config.MetricLastSeenDate:     time.Date(2026, 3, 1, 0, 10, 0, 0, time.UTC),
		config.MetricLastPage:         "app.example.com/x",
	}
	if len(got) != len(want) {
		t.Errorf("Compute = %v, want %v (browser never seen: absent)", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	// No activity in the period: zeros, nothing else.
	got = Compute(sum, Period{From: "2026-03-05", To: "2026-03-06"}, all)
	if len(got) != 4 || got[config.MetricSessions] != int64(0) || got[config.MetricTimeSpentSeconds] != int64(0) {
		t.Errorf("inactive: %v, want only the four zero counts", got)
	}
}

// TestComputeEdges: days outside the period (on both sides) count for
// nothing, in whatever order the map gives them; a day without activity
// (Active 0) is no active day; a day whose first time is unknown (0) does
// not make first_seen 0; a context field recorded empty is absent.
func TestComputeEdges(t *testing.T) {
	day := func(d string, h int) int64 { // Unix ms of hour h of day d (UTC)
		tm, err := time.Parse(time.DateOnly, d)
		if err != nil {
			t.Fatal(err)
		}
		return tm.Add(time.Duration(h) * time.Hour).UnixMilli()
	}
	sum := &store.ActivitySummary{
		Days: map[string]*store.DaySummary{
			"2026-02-20": {Events: 100, Active: 100, Sessions: 10, TimeMs: 1_000_000, FirstMs: day("2026-02-20", 1), LastMs: day("2026-02-20", 2)},
			"2026-02-27": {Events: 100, Active: 100, Sessions: 10, TimeMs: 1_000_000, FirstMs: day("2026-02-27", 1), LastMs: day("2026-02-27", 2)},
			"2026-02-28": {Events: 2, Active: 2, Sessions: 1, TimeMs: 10_000, FirstMs: day("2026-02-28", 9), LastMs: day("2026-02-28", 10)},
			"2026-03-01": {Events: 1, Active: 1, Sessions: 1, TimeMs: 5_000, LastMs: day("2026-03-01", 8)}, // first time unknown
			"2026-03-02": {Sessions: 1, TimeMs: 1_000},                                                     // no activity recorded
			"2026-03-03": {Events: 100, Active: 100, Sessions: 10, TimeMs: 1_000_000, FirstMs: day("2026-03-03", 1), LastMs: day("2026-03-03", 2)},
			"2026-03-09": {Events: 100, Active: 100, Sessions: 10, TimeMs: 1_000_000, FirstMs: day("2026-03-09", 1), LastMs: day("2026-03-09", 2)},
		},
		Context: map[string]store.ContextValue{store.ContextBrowser: {Value: ""}, store.ContextCountryCode: {Value: "DE"}},
	}
	metrics := []string{config.MetricSessions, config.MetricEvents, config.MetricActiveDays, config.MetricTimeSpentSeconds,
		config.MetricFirstSeen, config.MetricLastSeen, config.MetricBrowser, config.MetricCountryCode}
	want := map[string]any{
		config.MetricSessions: int64(3), config.MetricEvents: int64(3), config.MetricActiveDays: int64(2), config.MetricTimeSpentSeconds: int64(16),
		config.MetricFirstSeen: time.UnixMilli(day("2026-02-28", 9)).UTC(), config.MetricLastSeen: time.UnixMilli(day("2026-03-01", 8)).UTC(),
		config.MetricCountryCode: "DE",
	}
	for range 30 { // map order differs from call to call
		got := Compute(sum, Period{From: "2026-02-28", To: "2026-03-02"}, metrics)
		if len(got) != len(want) {
			t.Fatalf("Compute = %v, want %v (the empty browser absent)", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("%s = %v, want %v", k, got[k], v)
			}
		}
	}
}
