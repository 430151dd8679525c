package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/store/storetest"
)

// TestActivityIDsRepeatedWithinACall: an event id an earlier delta of the
// same call carries is dropped from the later delta, which still counts for
// its other ids; a delta left without ids is dropped, and the deltas after
// it still count.
func TestActivityIDsRepeatedWithinACall(t *testing.T) {
	t.Parallel()
	bothStores(t, func(t *testing.T, s storetest.Store) {
		ctx := t.Context()
		at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
		d := func(id string, ev int64, ids ...string) store.ActivityDelta {
			return store.ActivityDelta{Kind: store.KindCompany, ID: id, Day: "2026-11-02", Events: ev, EventIDs: ids, LastSeen: at}
		}
		err := s.AddActivity(ctx, "production", []store.ActivityDelta{
			d("c1", 1, "x"),
			d("c2", 2, "x", "y"), // x is c1's: c2 counts for y
			d("c3", 4, "x"),      // nothing left: dropped
			d("c4", 8, "z"),
		})
		if err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]int64{"c1": 1, "c2": 2, "c3": 0, "c4": 8} {
			days, err := s.Activity(ctx, "production", store.KindCompany, id, "2026-11-02", "2026-11-02")
			var got int64
			for _, day := range days {
				got += day.Events
			}
			if err != nil || got != want {
				t.Errorf("%s: %d events (%v), want %d", id, got, err, want)
			}
		}
	})
}

// TestRunKeepsExactlyTheFailureLimit: a run with exactly 500 failures keeps
// them all; the summary entry replaces the last only beyond that.
func TestRunKeepsExactlyTheFailureLimit(t *testing.T) {
	t.Parallel()
	bothStores(t, func(t *testing.T, s storetest.Store) {
		ctx := t.Context()
		r := store.RunRecord{Env: "production", Job: "inbound", ID: "r1", Started: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
		for i := range 500 {
			r.Failures = append(r.Failures, store.Failure{Record: fmt.Sprintf("users/u%d", i), Reason: "bad"})
		}
		if err := s.PutRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		runs, err := s.ListRuns(ctx, "production", "inbound", 0)
		if err != nil || len(runs) != 1 || len(runs[0].Failures) != 500 || runs[0].Failures[499].Record != "users/u499" {
			t.Fatalf("runs %d (%v), want one run with its 500 failures", len(runs), err)
		}
	})
}
