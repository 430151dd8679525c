package measured

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/internal/logtest"
	"github.com/pilotsync/pilotsync/shared/store"
)

// duringUpdate calls hook before each batch update it passes on.
type duringUpdate struct {
	*hubspot.Client
	hook func()
}

func (d duringUpdate) BatchUpdate(ctx context.Context, obj string, in []hubspot.UpdateInput) (*hubspot.BatchUpdateResult, error) {
	d.hook()
	return d.Client.BatchUpdate(ctx, obj, in)
}

// TestRunHoldsTheLeaseWhileItWorks: while an invocation works, even one
// with a budget of a millisecond, no other can take the job's lease (it
// lasts the budget plus twice the deadline margin); when it ends, the lease
// is released.
func TestRunHoldsTheLeaseWhileItWorks(t *testing.T) {
	r := newRig(t)
	mm := r.prop("contacts", "up_events", config.MetricEvents)
	contacts := r.hs.SeedContacts(1, nil)
	r.person(store.KindUser, idsInShard("u", 0, 1)[0], contacts[0], r.day, 1, 4, nil) // on the first page
	var held error
	hs := duringUpdate{Client: r.hc, hook: func() {
		time.Sleep(5 * time.Millisecond) // longer than the budget
		held = r.st.Store.AcquireLease(t.Context(), env, JobName, "other", time.Minute)
	}}
	e := New(r.st, hs, r.linker, nil, Options{Env: env, PeriodDays: 7, Budget: time.Millisecond, Log: slog.New(slog.DiscardHandler),
		Targets: []Target{{Kind: store.KindUser, Object: "contacts", Mappings: []config.MeasuredMapping{mm}}}})
	rep, err := e.Run(t.Context(), r.at, ModeStart)
	if err != nil || rep.Counts[CountSent] != 1 {
		t.Fatalf("run: %v, %v", rep, err)
	}
	if !errors.Is(held, store.ErrLeaseHeld) {
		t.Errorf("another owner took the lease during the run: %v", held)
	}
	if err := r.st.Store.AcquireLease(t.Context(), env, JobName, "other", time.Minute); err != nil {
		t.Errorf("the lease was not released: %v", err)
	}
}

// TestRunLogsWhatItCouldNotRecord: a run record or lease release the store
// refuses is logged as a warning (the report is returned all the same); a
// run whose writes succeed logs no such warning; an engine built without a
// logger logs to the default one.
func TestRunLogsWhatItCouldNotRecord(t *testing.T) {
	for _, op := range []string{"", "PutRun", "ReleaseLease"} {
		t.Run(op, func(t *testing.T) {
			r := newRig(t)
			mm := r.prop("contacts", "up_events", config.MetricEvents)
			contacts := r.hs.SeedContacts(1, nil)
			r.person(store.KindUser, "u1", contacts[0], r.day, 1, 4, nil)
			if op != "" {
				r.st.setFault(op, errInjected)
			}
			l := &logtest.Recorder{Min: slog.LevelDebug}
			e := New(r.st, r.hc, r.linker, nil, Options{Env: env, PeriodDays: 30, Log: slog.New(l),
				Targets: []Target{{Kind: store.KindUser, Object: "contacts", Mappings: []config.MeasuredMapping{mm}}}})
			rep, err := e.Run(t.Context(), r.at, ModeStart)
			if err != nil || rep.Status != StatusComplete || rep.Counts[CountSent] != 1 {
				t.Fatalf("report %+v, %v; want complete", rep, err)
			}
			want := map[string]string{"PutRun": "WARN measured: write run record", "ReleaseLease": "WARN measured: release lease"}
			for o, w := range want {
				if got := slices.Contains(l.Lines(), w); got != (o == op) {
					t.Errorf("logged %q: %q present %v, want %v", l.Lines(), w, got, o == op)
				}
			}
		})
	}
	// Without a logger: the default one (a nil logger would panic here).
	r := newRig(t)
	mm := r.prop("contacts", "up_events", config.MetricEvents)
	r.st.setFault("PutRun", errInjected)
	e := New(r.st, r.hc, r.linker, nil, Options{Env: env, PeriodDays: 30, Targets: []Target{{Kind: store.KindUser, Object: "contacts", Mappings: []config.MeasuredMapping{mm}}}})
	if rep, err := e.Run(t.Context(), r.at, ModeStart); err != nil || rep.Status != StatusComplete {
		t.Errorf("without a logger: %+v, %v", rep, err)
	}
}

// TestRunProblemsListTheFirstRecords: a problem lists at most
// maxProblemRecords records however many refused, across pages too, and
// counts them all.
func TestRunProblemsListTheFirstRecords(t *testing.T) {
	r := newRig(t)
	mm := r.prop("contacts", "up_events", config.MetricEvents)
	const n = maxProblemRecords + 3
	contacts := r.hs.SeedContacts(n, nil)
	refuse := map[string]string{}
	var sums []*store.ActivitySummary
	var ps []*store.Profile
	// All but one on one page (over the cap), one on a later page.
	ids := append(idsInShard("a", 1, n-1), idsInShard("b", 2, 1)...)
	for i, id := range ids {
		refuse[contacts[i]] = "up_events"
		r.linker.byMatch[id+"@m"] = contacts[i]
		ms := r.at.UnixMilli()
		sums = append(sums, &store.ActivitySummary{Env: env, Kind: store.KindUser, ID: id,
			Days: map[string]*store.DaySummary{r.day: {Events: int64(i + 1), Active: int64(i + 1), FirstMs: ms, LastMs: ms}}})
		ps = append(ps, &store.Profile{Env: env, Kind: store.KindUser, ID: id, MatchValue: id + "@m"})
	}
	if err := r.st.PutActivitySummaries(t.Context(), env, sums); err != nil {
		t.Fatal(err)
	}
	if err := r.st.PutProfiles(t.Context(), ps); err != nil {
		t.Fatal(err)
	}
	e := New(r.st, refusing{Client: r.hc, refuse: refuse}, r.linker, nil, Options{Env: env, PeriodDays: 30, Log: slog.New(slog.DiscardHandler),
		Targets: []Target{{Kind: store.KindUser, Object: "contacts", Mappings: []config.MeasuredMapping{mm}}}})
	rep, err := e.Run(t.Context(), r.at, ModeStart)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 1 {
		t.Fatalf("problems %+v, want one", rep.Problems)
	}
	p := rep.Problems[0]
	if p.Count != n || len(p.Records) != maxProblemRecords {
		t.Errorf("problem counts %d and lists %d records, want %d and %d", p.Count, len(p.Records), n, maxProblemRecords)
	}
	if want := fmt.Sprintf("HubSpot refused up_events for %d contacts records", n); len(p.Detail) < len(want) || p.Detail[:len(want)] != want {
		t.Errorf("detail %q, want %q...", p.Detail, want)
	}
}
