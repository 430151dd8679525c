package status

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/store"
)

// fakeStore is a hand-written Store: names and records in maps, and an error
// for the parts a test breaks.
type fakeStore struct {
	Store
	names   map[string][]string
	runs    map[string][]store.RunRecord
	cursors map[string]store.CursorInfo
	leases  map[string]store.LeaseInfo
	quar    store.QuarantineSummary
	broken  error
}

func (f *fakeStore) Names(_ context.Context, _, what string) ([]string, error) {
	if f.broken != nil {
		return nil, f.broken
	}
	return f.names[what], nil
}

func (f *fakeStore) ListRuns(_ context.Context, _, job string, limit int) ([]store.RunRecord, error) {
	if f.broken != nil {
		return nil, f.broken
	}
	rs := f.runs[job]
	return rs[:min(limit, len(rs))], nil
}

func (f *fakeStore) CursorInfo(_ context.Context, _, name string) (store.CursorInfo, error) {
	c, ok := f.cursors[name]
	if !ok {
		return c, store.ErrNotFound
	}
	return c, nil
}

func (f *fakeStore) Lease(_ context.Context, _, name string) (store.LeaseInfo, error) {
	l, ok := f.leases[name]
	if !ok {
		return l, store.ErrNotFound
	}
	return l, nil
}

func (f *fakeStore) Problems(context.Context, string, []string) ([]store.ProblemInfo, error) {
	return nil, nil
}

func (f *fakeStore) QuarantineSummary(context.Context, string, int) (store.QuarantineSummary, error) {
	return f.quar, f.broken
}

func TestGather(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f := &fakeStore{
		names: map[string][]string{
			store.NamesJob:    {"inbound", "report_export"},
			store.NamesCursor: {"inbound:users:contacts", "opaque", "gone"},
			store.NamesLease:  {"inbound", "released"},
		},
		runs: map[string][]store.RunRecord{
			"inbound": {
				{ID: "b", Started: now.Add(-time.Minute), Finished: now.Add(-50 * time.Second), Failures: []store.Failure{{Record: "u1"}},
					APICalls: map[string]int64{"hubspot.search": 3, "userpilot.identify": 2}},
				{ID: "a", Started: now.Add(-6 * time.Minute), Finished: now.Add(-5 * time.Minute)},
				{ID: "old", Started: now.Add(-11 * time.Minute)},
			},
			"report_export": {{ID: "x", Started: now.Add(-time.Hour), Error: "boom"}},
			"outbound":      {},
		},
		cursors: map[string]store.CursorInfo{
			"inbound:users:contacts": {Name: "inbound:users:contacts", Value: `{"since_ms":` + itoa(now.Add(-3*time.Minute).UnixMilli()) + `}`, At: now.Add(-time.Minute)},
			"opaque":                 {Name: "opaque", Value: "page-7", At: now.Add(-30 * time.Second)},
		},
		leases: map[string]store.LeaseInfo{"inbound": {Owner: "run-9", Until: now.Add(-time.Hour)}},
		quar:   store.QuarantineSummary{ByReason: map[store.Kind]map[string]int{store.KindCompany: {"read-only": 4}}, Profiles: 4, Scanned: 10000},
	}
	rep, err := Gather(t.Context(), f, nil, Options{Env: "production", Runs: 2, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Jobs) != 2 || rep.Jobs[0].Job != "inbound" || len(rep.Jobs[0].Runs) != 2 || rep.Jobs[1].Job != "report_export" {
		t.Fatalf("jobs = %+v; want inbound (2 runs) and the unknown job, not the job that never ran", rep.Jobs)
	}
	if r := rep.Jobs[0].Runs[0]; r.Outcome != OutcomeFailures || r.APICallsTotal != 5 || r.DurationMS != 10000 || r.Failures != 1 {
		t.Errorf("latest inbound run = %+v", r)
	}
	if r := rep.Jobs[1].Runs[0]; r.Outcome != OutcomeFailed || r.DurationMS != 0 {
		t.Errorf("failed unfinished run = %+v", r)
	}
	if len(rep.Cursors) != 2 || rep.Cursors[0].LagFrom != "position" || rep.Cursors[0].LagSeconds != 180 ||
		rep.Cursors[1].LagFrom != "written" || rep.Cursors[1].LagSeconds != 30 {
		t.Errorf("cursors = %+v; want a 3m position lag and a 30s written lag, the missing one skipped", rep.Cursors)
	}
	if len(rep.Leases) != 1 || rep.Leases[0].Held {
		t.Errorf("leases = %+v; want the expired inbound lease, free", rep.Leases)
	}
	var buf bytes.Buffer
	if err := rep.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ok, 1 failed records", "FAILED", "error: boom", "lag 3m0s", "free (last holder run-9, expired 1h0m0s ago)",
		"company  4  read-only", "partial: stopped after 10000 items", "not checked (no queue URL)"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, buf.String())
		}
	}

	f.broken = errors.New("table gone")
	rep, err = Gather(t.Context(), f, nil, Options{Env: "production", Now: func() time.Time { return now }})
	if err == nil || len(rep.Unavailable) < 4 {
		t.Errorf("Gather on a broken store = %v, unavailable %v; want an error", err, rep.Unavailable)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
