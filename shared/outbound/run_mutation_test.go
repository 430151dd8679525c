package outbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/store/storetest"
)

// TestNewNeedsItsParts: a push without a store, HubSpot client, linker or
// environment is refused at build time, not at the first run; Configured
// says whether any kind has outbound mappings.
func TestNewNeedsItsParts(t *testing.T) {
	st, lk := storetest.New(), &fakeLinker{}
	hc, err := hubspot.NewClient(hubspot.WithToken("x"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Env: env, Objects: []Object{usersPlan()}}
	for name, build := range map[string]func() (*Push, error){
		"store":   func() (*Push, error) { return New(nil, hc, lk, cfg) },
		"hubspot": func() (*Push, error) { return New(st, nil, lk, cfg) },
		"linker":  func() (*Push, error) { return New(st, hc, nil, cfg) },
		"env":     func() (*Push, error) { return New(st, hc, lk, Config{Objects: cfg.Objects}) },
	} {
		if p, err := build(); err == nil || p != nil {
			t.Errorf("without %s: %v, %v; want an error", name, p, err)
		}
	}
	p, err := New(st, hc, lk, cfg)
	if err != nil || !p.Configured() {
		t.Errorf("New = %v, %v; want a configured push", p, err)
	}
	if p, _ := New(st, hc, lk, Config{Env: env}); p.Configured() {
		t.Error("a push with no mappings says it is configured")
	}
}

// statsOf is the poll's API counters of the client (wire.apiCalls): calls
// per endpoint, and the 429 answers under a ".429" key that are not calls.
func statsOf(hc *hubspot.Client) func() map[string]int64 {
	return func() map[string]int64 {
		s := hc.Stats()
		out := map[string]int64{"hubspot" + rateLimitedSuffix: s.RateLimited}
		for k, v := range s.Calls {
			out["hubspot."+k] = v
		}
		return out
	}
}

// noWait is a client clock whose waits end at once (the sandbox's 429 is
// answered once, so the retry needs no real wait).
type noWait struct{}

func (noWait) Now() time.Time                                   { return time.Now() }
func (noWait) Sleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// TestPushReportsProgressAndRunRecord: progress is reported after each batch
// with the profiles considered, records sent and HubSpot calls made so far
// (429 answers are not calls); the run record holds the run's clock times,
// each kind's counts and the totals, whether it completed, and the API calls
// of this run only.
func TestPushReportsProgressAndRunRecord(t *testing.T) {
	clock := []time.Time{time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 10, 0, 2, 500_000_000, time.UTC)}
	var mu sync.Mutex
	var seen []Progress
	r := newMemRig(t, []Object{usersPlan(), companiesTier()})
	r.hc, _ = hubspot.NewClient(hubspot.WithBaseURL(r.hs.URL), hubspot.WithToken(hubspottest.DefaultToken), hubspot.WithLogger(slog.New(slog.DiscardHandler)),
		hubspot.WithLimits(hubspot.Limits{PerWindow: 1_000_000, Window: time.Second, SearchPerSecond: 1_000_000}), hubspot.WithClock(noWait{}))
	calls := 0
	var err error
	r.push, err = New(r.st, r.hc, r.linker, r.push.cfg, WithLogger(slog.New(slog.DiscardHandler)), WithAPIStats(statsOf(r.hc)),
		WithClock(func() time.Time { calls++; return clock[min(calls-1, 1)] }),
		WithProgress(func(p Progress) { mu.Lock(); seen = append(seen, p); mu.Unlock() }))
	if err != nil {
		t.Fatal(err)
	}
	// Calls made before the run are not the run's.
	if _, err := r.hc.ListProperties(t.Context(), "contacts"); err != nil {
		t.Fatal(err)
	}
	ids := r.hs.SeedContacts(150, nil)
	for i, id := range ids {
		r.put(fmt.Sprintf("u%03d", i), id, "plan", "pro")
	}
	r.putCompany("c0", r.cids[0], "tier", "gold")
	r.hs.FailNext(hubspottest.EndpointBatchUpdate, 429) // the first batch is answered 429 once, then sent again

	rep := r.run()
	want := []Progress{
		{Object: "users", Done: 100, Sent: 100, Calls: 3}, // the property list, the 429 and its retry
		{Object: "users", Done: 150, Sent: 150, Calls: 4},
		{Object: "companies", Done: 1, Sent: 1, Calls: 6}, // (a second property list)
	}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("progress %+v\nwant     %+v", seen, want)
	}
	if rep.Status != StatusComplete || !rep.Complete || rep.Totals.Sent != 151 || rep.Totals.Considered != 151 || rep.Totals.Batches != 3 {
		t.Errorf("report %s %+v", rep.Status, rep.Totals)
	}
	if !rep.Started.Equal(clock[0]) || !rep.Finished.Equal(clock[1]) || rep.DurationMS != 2500 {
		t.Errorf("report started %v finished %v duration %d ms, want the push's clock", rep.Started, rep.Finished, rep.DurationMS)
	}
	wantCalls := map[string]int64{"hubspot.properties": 2, "hubspot.batch_update": 4, "hubspot.429": 1}
	if fmt.Sprint(rep.APICalls) != fmt.Sprint(wantCalls) {
		t.Errorf("API calls %v, want %v (this run's only)", rep.APICalls, wantCalls)
	}
	runs := r.runRecords()
	if len(runs) != 1 {
		t.Fatalf("%d run records, want 1", len(runs))
	}
	rec := runs[0]
	if rec.ID != rep.RunID || rec.Job != JobOutbound || !rec.Started.Equal(clock[0]) || !rec.Finished.Equal(clock[1]) || rec.Error != "" {
		t.Errorf("run record %+v, want run %s at the push's clock", rec, rep.RunID)
	}
	for k, v := range map[string]int64{"users.sent": 150, "users.considered": 150, "users.batches": 2, "companies.sent": 1,
		"companies.batches": 1, "sent": 151, "values": 151, "batches": 3, "complete": 1, "duration_ms": 2500, "store_writes": 151} {
		if rec.Counts[k] != v {
			t.Errorf("run record count %s = %d, want %d", k, rec.Counts[k], v)
		}
	}
	if fmt.Sprint(rec.APICalls) != fmt.Sprint(wantCalls) {
		t.Errorf("run record API calls %v, want %v", rec.APICalls, wantCalls)
	}
}

// failLinker is the fake linker with failing calls for users (HubSpot's
// search failing under the linker).
type failLinker struct {
	*fakeLinker
	resolveErr, goneErr error
}

func (f *failLinker) Resolve(ctx context.Context, kind store.Kind, ps []*store.Profile) (map[string]identity.Resolution, error) {
	if f.resolveErr != nil && kind == store.KindUser {
		return nil, f.resolveErr
	}
	return f.fakeLinker.Resolve(ctx, kind, ps)
}

func (f *failLinker) Gone(ctx context.Context, kind store.Kind, ps []*store.Profile) (map[string]identity.Resolution, error) {
	if f.goneErr != nil && kind == store.KindUser {
		return nil, f.goneErr
	}
	return f.fakeLinker.Gone(ctx, kind, ps)
}

// TestPushKindFailuresAreReportedAndOthersRun: a kind whose property list,
// dirty read or linking fails is reported failed with the cause and keeps
// its marks; the next kind still runs; the run is failed and names each.
func TestPushKindFailuresAreReportedAndOthersRun(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(r *memRig, fl *failLinker)
		want  string
	}{
		{"property list", func(r *memRig, _ *failLinker) { r.hs.FailNext(hubspottest.EndpointProperties, 403) }, "list contacts properties: "},
		{"dirty read", func(r *memRig, _ *failLinker) {
			r.st.Fail(func(op string) error {
				if op == "DirtyProfiles" {
					r.st.Fail(nil)
					return storetest.ErrInjected
				}
				return nil
			})
		}, "read dirty users: "},
		{"resolve", func(_ *memRig, fl *failLinker) { fl.resolveErr = errors.New("search failed") }, "resolve 1 users: search failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newMemRig(t, []Object{usersPlan(), companiesTier()})
			fl := &failLinker{fakeLinker: r.linker}
			r.push.linker = fl
			r.put("a", r.ids[0], "plan", "pro")
			r.putCompany("c0", r.cids[0], "tier", "gold")
			tc.setup(r, fl)
			rep := r.run()
			users, companies := rep.Objects[0], rep.Objects[1]
			if users.Complete || !strings.Contains(users.Error, tc.want) || users.Err == nil || rep.Status != StatusFailed || rep.Complete ||
				!strings.HasPrefix(rep.Error, "users: ") || !strings.Contains(rep.Error, tc.want) {
				t.Errorf("report %s %q, users %+v; want users failed with %q", rep.Status, rep.Error, users, tc.want)
			}
			if !companies.Complete || companies.Sent != 1 || r.record("companies", r.cids[0])["userpilot_tier"] != "gold" {
				t.Errorf("companies %+v, want them pushed all the same", companies)
			}
			if !r.user("a").Dirty || r.record("contacts", r.ids[0])["userpilot_plan"] != "" {
				t.Error("the failed kind's profile lost its mark or was sent")
			}
			if runs := r.runRecords(); len(runs) != 1 || runs[0].Error != rep.Error || runs[0].Counts["complete"] != 0 {
				t.Errorf("run record %+v, want the failure recorded", runs)
			}
			// The next run, without the fault, sends it.
			fl.resolveErr = nil
			if rep := r.run(); rep.Status != StatusComplete || r.record("contacts", r.ids[0])["userpilot_plan"] != "pro" || r.user("a").Dirty {
				t.Errorf("next run %s %q: the profile was not sent", rep.Status, rep.Error)
			}
		})
	}
}
