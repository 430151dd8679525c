package outbound

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
)

const env = "production"

// fakeLinker stands in for shared/identity/linker: links by a fixed table of
// match value -> HubSpot id, and records Gone calls.
type fakeLinker struct {
	mu      sync.Mutex
	byMatch map[string]string
	gone    []string
}

func (f *fakeLinker) Resolve(_ context.Context, _ store.Kind, ps []*store.Profile) (map[string]identity.Resolution, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]identity.Resolution{}
	for _, p := range ps {
		if p.HubSpotID == "" {
			if id := f.byMatch[p.MatchValue]; id != "" {
				p.HubSpotID, p.HubSpotObject = id, "contacts"
			}
		}
		if p.HubSpotID == "" {
			out[p.ID] = identity.Resolution{Outcome: identity.NotFound}
		} else {
			out[p.ID] = identity.Resolution{Outcome: identity.Linked, HubSpotID: p.HubSpotID}
		}
	}
	return out, nil
}

func (f *fakeLinker) Gone(ctx context.Context, kind store.Kind, ps []*store.Profile) (map[string]identity.Resolution, error) {
	f.mu.Lock()
	for _, p := range ps {
		f.gone = append(f.gone, p.ID)
		p.HubSpotID, p.HubSpotObject = "", ""
	}
	f.mu.Unlock()
	return f.Resolve(ctx, kind, ps)
}

type rig struct {
	t      *testing.T
	st     *store.Store
	hs     *hubspottest.Server
	linker *fakeLinker
	push   *Push
	ids    []string // contact ids
}

func newRig(t *testing.T, mappings ...Mapping) *rig {
	t.Helper()
	db, table := awstest.Table(t, store.CreateTable)
	r := &rig{t: t, st: store.New(db, table), linker: &fakeLinker{byMatch: map[string]string{}}}
	r.hs = hubspottest.NewTestServer(t, hubspottest.Options{PerTenSeconds: -1, SearchPerSecond: -1, Daily: -1})
	r.hs.CreateProperty("contacts", hubspottest.Property{Name: "userpilot_plan", Label: "Plan", Type: "string", FieldType: "text", GroupName: "pilotsync"})
	r.ids = r.hs.SeedContacts(3, nil)
	hc, err := hubspot.NewClient(hubspot.WithBaseURL(r.hs.URL), hubspot.WithToken(hubspottest.DefaultToken), hubspot.WithLogger(slog.New(slog.DiscardHandler)),
		hubspot.WithLimits(hubspot.Limits{PerWindow: 1_000_000, Window: time.Second, SearchPerSecond: 1_000_000}))
	if err != nil {
		t.Fatal(err)
	}
	if len(mappings) == 0 {
		mappings = []Mapping{{Userpilot: "plan", HubSpot: "userpilot_plan"}}
	}
	r.push, err = New(r.st, hc, r.linker, Config{Env: env, Objects: []Object{{Kind: store.KindUser, HubSpotObject: "contacts", Mappings: mappings}}},
		WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// put stores a dirty profile.
func (r *rig) put(p *store.Profile) {
	r.t.Helper()
	p.Env, p.Kind, p.Dirty = env, store.KindUser, true
	if err := r.st.PutProfile(r.t.Context(), p); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) get(id string) *store.Profile {
	r.t.Helper()
	p, err := r.st.GetProfile(r.t.Context(), env, store.KindUser, id)
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

func (r *rig) run() *Report {
	r.t.Helper()
	rep, err := r.push.Run(r.t.Context())
	if err != nil {
		r.t.Fatal(err)
	}
	return rep
}

func (r *rig) hubspot(id string) map[string]string {
	rec, _ := r.hs.Record("contacts", id)
	return rec.Properties
}

func planProp(v any, at time.Time) map[string]store.Property {
	return map[string]store.Property{"plan": {Value: v, At: at}}
}

// TestPushRules: a linked profile's change is sent and recorded; a user
// HubSpot does not know is counted and left alone; a value inbound copied
// from the same property is not echoed; a value older than the one sent is
// refused.
func TestPushRules(t *testing.T) {
	r := newRig(t, Mapping{Userpilot: "plan", HubSpot: "userpilot_plan", EchoOf: true})
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	r.linker.byMatch["a@example.com"] = r.ids[0]
	r.put(&store.Profile{ID: "a", MatchValue: "a@example.com", Properties: planProp("pro", t0)})
	r.put(&store.Profile{ID: "nobody", MatchValue: "nobody@example.com", Properties: planProp("pro", t0)})
	r.put(&store.Profile{ID: "echo", MatchValue: "echo@example.com", HubSpotID: r.ids[1], HubSpotObject: "contacts",
		Properties: planProp("enterprise", t0), InboundHashes: map[string]string{"plan": identity.ValueHash("enterprise")}})
	r.put(&store.Profile{ID: "old", MatchValue: "old@example.com", HubSpotID: r.ids[2], HubSpotObject: "contacts",
		Properties:     planProp("free", t0),
		OutboundHashes: map[string]string{"userpilot_plan": identity.ValueHash("pro")},
		OutboundAt:     map[string]time.Time{"userpilot_plan": t0.Add(time.Hour)}})
	contacts := len(r.hs.Records("contacts"))

	rep := r.run()
	got := rep.Totals
	if got.Considered != 4 || got.Sent != 1 || got.Unmatched != 1 || got.Echoes != 1 || got.Stale != 1 || got.Batches != 1 || rep.Status != StatusComplete {
		t.Fatalf("report %+v (status %s)", got, rep.Status)
	}
	if v := r.hubspot(r.ids[0])["userpilot_plan"]; v != "pro" {
		t.Errorf("a: HubSpot holds %q, want pro", v)
	}
	for _, i := range []int{1, 2} {
		if v, ok := r.hubspot(r.ids[i])["userpilot_plan"]; ok {
			t.Errorf("contact %d got %q: an echo or an older value was sent", i, v)
		}
	}
	if n := len(r.hs.Records("contacts")); n != contacts {
		t.Errorf("%d contacts, want %d: pilotsync never creates contacts", n, contacts)
	}
	a := r.get("a")
	if a.Dirty || a.OutboundHashes["userpilot_plan"] != identity.ValueHash("pro") || !a.OutboundAt["userpilot_plan"].Equal(t0) || a.HubSpotID != r.ids[0] {
		t.Errorf("a after the push: %+v", a)
	}
	for _, id := range []string{"nobody", "echo", "old"} {
		if r.get(id).Dirty {
			t.Errorf("%s still dirty", id)
		}
	}
	if rep := r.run(); rep.Totals.Considered != 0 || rep.Totals.Batches != 0 {
		t.Errorf("second run %+v, want nothing", rep.Totals)
	}
}

// TestPushKeepsMarksOnCallFailure: when HubSpot refuses the call (the daily
// limit), nothing is quarantined, the marks stay and the next run sends.
func TestPushKeepsMarksOnCallFailure(t *testing.T) {
	r := newRig(t)
	r.put(&store.Profile{ID: "a", MatchValue: "a@example.com", HubSpotID: r.ids[0], HubSpotObject: "contacts", Properties: planProp("pro", time.Now())})
	r.hs.FailNext(hubspottest.EndpointBatchUpdate, hubspottest.FaultDaily)
	rep := r.run()
	if rep.Status != StatusFailed || rep.Totals.Quarantined != 0 || !errors.Is(rep.Objects[0].Err, hubspot.ErrDailyLimit) {
		t.Fatalf("report %+v, err %v: want failed on the daily limit", rep, rep.Objects[0].Err)
	}
	if p := r.get("a"); !p.Dirty || len(p.Quarantined) != 0 {
		t.Fatalf("a after the failed call: dirty %v, quarantined %v", p.Dirty, p.Quarantined)
	}
	r.hs.ClearFaults()
	// The client remembers the daily limit until the account's midnight: a new
	// client (the next cold start) stands for the next day.
	hc, _ := hubspot.NewClient(hubspot.WithBaseURL(r.hs.URL), hubspot.WithToken(hubspottest.DefaultToken), hubspot.WithLogger(slog.New(slog.DiscardHandler)))
	r.push.hs = hc
	if rep := r.run(); rep.Totals.Sent != 1 || r.hubspot(r.ids[0])["userpilot_plan"] != "pro" || r.get("a").Dirty {
		t.Errorf("next run: %+v, HubSpot %q", rep.Totals, r.hubspot(r.ids[0])["userpilot_plan"])
	}
}

// TestPushGoneRecord: a record HubSpot reports deleted goes through
// Linker.Gone, and the value is sent to the record it resolves to now.
func TestPushGoneRecord(t *testing.T) {
	r := newRig(t)
	r.hs.Archive("contacts", r.ids[0])
	r.linker.byMatch["a@example.com"] = r.ids[1]
	r.put(&store.Profile{ID: "a", MatchValue: "a@example.com", HubSpotID: r.ids[0], HubSpotObject: "contacts", Properties: planProp("pro", time.Now())})
	rep := r.run()
	if rep.Totals.Gone != 1 || rep.Totals.Sent != 1 || len(r.linker.gone) != 1 {
		t.Fatalf("report %+v, gone calls %v", rep.Totals, r.linker.gone)
	}
	if p := r.get("a"); p.HubSpotID != r.ids[1] || p.Dirty || r.hubspot(r.ids[1])["userpilot_plan"] != "pro" {
		t.Errorf("a: linked to %s (want %s), dirty %v, HubSpot %q", p.HubSpotID, r.ids[1], p.Dirty, r.hubspot(r.ids[1])["userpilot_plan"])
	}
}

// TestPushLeaseAndBudget: a run that finds the lease held does nothing; a
// run whose time budget is spent starts no batch and keeps the marks.
func TestPushLeaseAndBudget(t *testing.T) {
	r := newRig(t)
	r.put(&store.Profile{ID: "a", MatchValue: "a@example.com", HubSpotID: r.ids[0], HubSpotObject: "contacts", Properties: planProp("pro", time.Now())})
	if err := r.st.AcquireLease(t.Context(), env, leaseName, "other", time.Minute); err != nil {
		t.Fatal(err)
	}
	if rep := r.run(); rep.Status != StatusLeaseHeld {
		t.Fatalf("status %s, want lease_held", rep.Status)
	}
	if err := r.st.ReleaseLease(t.Context(), env, leaseName, "other"); err != nil {
		t.Fatal(err)
	}
	// The invocation's time is up (the budget's clock is past it): no batch
	// starts.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	r.push.wall = func() time.Time { return time.Now().Add(time.Hour) }
	rep, err := r.push.Run(ctx)
	if err != nil || rep.Status != StatusPartial || rep.Totals.Batches != 0 || !r.get("a").Dirty {
		t.Fatalf("out of budget: %+v, %v", rep, err)
	}
}

// TestPushContinuesNextRun: a run whose budget ends after its first batch
// stops between batches with the rest still marked, and the next run sends
// exactly the rest.
func TestPushContinuesNextRun(t *testing.T) {
	r := newRig(t)
	ids := r.hs.SeedContacts(150, nil)
	for _, id := range ids {
		r.put(&store.Profile{ID: "p" + id, MatchValue: "m" + id, HubSpotID: id, HubSpotObject: "contacts", Properties: planProp("pro", time.Now())})
	}
	var mu sync.Mutex
	checks := 0
	r.push.wall = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		checks++
		if checks > 3 { // object start, after the property read, first batch
			return time.Now().Add(time.Hour)
		}
		return time.Now()
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	rep, err := r.push.Run(ctx)
	if err != nil || rep.Status != StatusPartial || rep.Totals.Sent != 100 || rep.Totals.Batches != 1 {
		t.Fatalf("first run: %+v, %v", rep, err)
	}
	r.push.wall = time.Now
	rep = r.run()
	if rep.Status != StatusComplete || rep.Totals.Considered != 50 || rep.Totals.Sent != 50 {
		t.Fatalf("second run: %+v", rep.Totals)
	}
	for _, id := range ids {
		if r.hubspot(id)["userpilot_plan"] != "pro" || r.get("p"+id).Dirty {
			t.Fatalf("record %s not sent or still dirty", id)
		}
	}
}
