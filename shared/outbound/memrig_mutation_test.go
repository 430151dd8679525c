package outbound

import (
	"log/slog"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/store/storetest"
)

// memRig is the push on the in-memory store (storetest.Memory, which passes
// the store's contract suite) and the HubSpot sandbox: the rig of the
// mutation tests, fast enough to run once per mutant.
type memRig struct {
	t      *testing.T
	st     *storetest.Memory
	hs     *hubspottest.Server
	hc     *hubspot.Client
	linker *fakeLinker
	push   *Push
	ids    []string // contact ids
	cids   []string // company ids
}

// newMemRig builds the push for objs (default: users' plan to
// userpilot_plan on contacts) with options opts.
func newMemRig(t *testing.T, objs []Object, opts ...Option) *memRig {
	t.Helper()
	r := &memRig{t: t, st: storetest.New(), linker: &fakeLinker{byMatch: map[string]string{}}}
	r.hs = hubspottest.NewTestServer(t, hubspottest.Options{PerTenSeconds: -1, SearchPerSecond: -1, Daily: -1, Logger: slog.New(slog.DiscardHandler)})
	r.hs.CreateProperty("contacts", hubspottest.Property{Name: "userpilot_plan", Label: "Plan", Type: "string", FieldType: "text", GroupName: "pilotsync"})
	r.hs.CreateProperty("contacts", hubspottest.Property{Name: "userpilot_seats", Label: "Seats", Type: "number", FieldType: "number", GroupName: "pilotsync"})
	r.hs.CreateProperty("contacts", hubspottest.Property{Name: "userpilot_stage", Label: "Stage", Type: "enumeration", FieldType: "select", GroupName: "pilotsync",
		Options: []hubspottest.PropertyOption{{Label: "Trial", Value: "trial"}, {Label: "Paid", Value: "paid"}}})
	r.hs.CreateProperty("companies", hubspottest.Property{Name: "userpilot_tier", Label: "Tier", Type: "string", FieldType: "text", GroupName: "pilotsync"})
	r.ids = r.hs.SeedContacts(3, nil)
	r.cids = r.hs.AddRecords("companies", []hubspottest.SeedRecord{{Properties: map[string]string{"name": "c0"}}, {Properties: map[string]string{"name": "c1"}}})
	var err error
	r.hc, err = hubspot.NewClient(hubspot.WithBaseURL(r.hs.URL), hubspot.WithToken(hubspottest.DefaultToken), hubspot.WithLogger(slog.New(slog.DiscardHandler)),
		hubspot.WithLimits(hubspot.Limits{PerWindow: 1_000_000, Window: time.Second, SearchPerSecond: 1_000_000}))
	if err != nil {
		t.Fatal(err)
	}
	if objs == nil {
		objs = []Object{usersPlan()}
	}
	r.push, err = New(r.st, r.hc, r.linker, Config{Env: env, Objects: objs}, append([]Option{WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// usersPlan maps the users' plan (and more, when given) to contacts.
func usersPlan(more ...Mapping) Object {
	return Object{Kind: store.KindUser, HubSpotObject: "contacts", Mappings: append([]Mapping{{Userpilot: "plan", HubSpot: "userpilot_plan"}}, more...)}
}

// companiesTier maps the companies' tier to companies.
func companiesTier() Object {
	return Object{Kind: store.KindCompany, HubSpotObject: "companies", Mappings: []Mapping{{Userpilot: "tier", HubSpot: "userpilot_tier"}}}
}

// put stores a dirty profile (a user unless p.Kind says otherwise) linked
// to hubspotID ("" for none) with properties kv (name, value, ...) set at t0.
func (r *memRig) put(id, hubspotID string, kv ...any) *store.Profile {
	r.t.Helper()
	p := &store.Profile{Env: env, Kind: store.KindUser, ID: id, MatchValue: id + "@example.com", Dirty: true, Properties: map[string]store.Property{}}
	if hubspotID != "" {
		p.HubSpotID, p.HubSpotObject = hubspotID, "contacts"
	}
	for i := 0; i+1 < len(kv); i += 2 {
		p.Properties[kv[i].(string)] = store.Property{Value: kv[i+1], At: t0}
	}
	if err := r.st.PutProfile(r.t.Context(), p); err != nil {
		r.t.Fatal(err)
	}
	return p
}

// putCompany stores a dirty company profile linked to hubspotID.
func (r *memRig) putCompany(id, hubspotID string, kv ...any) {
	r.t.Helper()
	p := &store.Profile{Env: env, Kind: store.KindCompany, ID: id, MatchValue: id, HubSpotID: hubspotID, HubSpotObject: "companies", Dirty: true, Properties: map[string]store.Property{}}
	for i := 0; i+1 < len(kv); i += 2 {
		p.Properties[kv[i].(string)] = store.Property{Value: kv[i+1], At: t0}
	}
	if err := r.st.PutProfile(r.t.Context(), p); err != nil {
		r.t.Fatal(err)
	}
}

func (r *memRig) get(kind store.Kind, id string) *store.Profile {
	r.t.Helper()
	p, err := r.st.GetProfile(r.t.Context(), env, kind, id)
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

func (r *memRig) user(id string) *store.Profile { return r.get(store.KindUser, id) }

func (r *memRig) run() *Report {
	r.t.Helper()
	rep, err := r.push.Run(r.t.Context())
	if err != nil {
		r.t.Fatal(err)
	}
	return rep
}

// record returns what HubSpot holds for a record.
func (r *memRig) record(object, id string) map[string]string {
	rec, _ := r.hs.Record(object, id)
	return rec.Properties
}

// runRecords returns the push's stored run records, newest first.
func (r *memRig) runRecords() []store.RunRecord {
	r.t.Helper()
	runs, err := r.st.ListRuns(r.t.Context(), env, JobOutbound, 10)
	if err != nil {
		r.t.Fatal(err)
	}
	return runs
}

// t0 is when the test profiles' values were set.
var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
