package outbound

import (
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/store"
)

// TestPlanSkipsOnlyTheStaleOrSentProperty: a value older than the one
// HubSpot was last sent, or the very value sent already, is skipped for
// its own property only: the properties mapped after it still go.
func TestPlanSkipsOnlyTheStaleOrSentProperty(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	obj := Object{Kind: store.KindUser, HubSpotObject: "contacts", Mappings: []Mapping{
		{Userpilot: "seats", HubSpot: "up_seats"}, {Userpilot: "plan", HubSpot: "up_plan"}}}
	cat := catalog{"up_seats": {Name: "up_seats", Type: hubspot.TypeNumber}, "up_plan": {Name: "up_plan", Type: hubspot.TypeString}}
	for _, tt := range []struct {
		name   string
		sentAt time.Time // when up_seats was last sent
		stale  int
	}{
		{"older than the value sent", t0.Add(time.Minute), 1},
		{"the value sent already", t0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := &store.Profile{Kind: store.KindUser, ID: "u1",
				Properties: map[string]store.Property{"seats": {Value: 3.0, At: t0}, "plan": {Value: "pro", At: t0.Add(time.Hour)}},
				OutboundAt: map[string]time.Time{"up_seats": tt.sentAt}}
			pl := planProfile(obj, cat, p)
			if want := map[string]string{"up_plan": "pro"}; !maps.Equal(pl.props, want) || pl.stale != tt.stale {
				t.Errorf("plan sends %v (stale %d), want %v (stale %d)", pl.props, pl.stale, want, tt.stale)
			}
		})
	}
}

// TestConfigFromCompaniesOnly: users without outbound mappings (or
// disabled) do not hide the companies' outbound mappings after them.
func TestConfigFromCompaniesOnly(t *testing.T) {
	cfg := config.Defaults()
	cfg.Mapping.Companies.Outbound = []config.PropertyMapping{{HubSpot: "tier", Userpilot: "tier"}}
	got, err := ConfigFrom(cfg)
	if err != nil || len(got.Objects) != 1 || got.Objects[0].Kind != store.KindCompany || len(got.Objects[0].Mappings) != 1 {
		t.Fatalf("ConfigFrom = %+v, %v; want the companies' one mapping", got, err)
	}
}

// TestApplyRecordsANewerSendOverAnOlderOne: a value sent after an earlier
// one replaces its time and hash, so a late identify older than it is
// refused next time; a send older than what was recorded meanwhile
// changes nothing.
func TestApplyRecordsANewerSendOverAnOlderOne(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	obj := Object{Kind: store.KindUser, HubSpotObject: "contacts", Mappings: []Mapping{{Userpilot: "plan", HubSpot: "up_plan"}}}
	cat := catalog{"up_plan": {Name: "up_plan", Type: hubspot.TypeString}}
	for _, tt := range []struct {
		name     string
		recorded time.Time
		wantAt   time.Time
		wantHash string
	}{
		{"newer send", t0, t0.Add(time.Hour), "h-new"},
		{"older send", t0.Add(2 * time.Hour), t0.Add(2 * time.Hour), "h-old"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := &store.Profile{Kind: store.KindUser, ID: "u1",
				Properties:     map[string]store.Property{"plan": {Value: "pro", At: t0.Add(time.Hour)}},
				OutboundAt:     map[string]time.Time{"up_plan": tt.recorded},
				OutboundHashes: map[string]string{"up_plan": "h-old"}}
			o := &outcome{sent: map[string]sentValue{"up_plan": {at: t0.Add(time.Hour), hash: "h-new"}}}
			o.apply(obj, cat, p)
			if !p.OutboundAt["up_plan"].Equal(tt.wantAt) || p.OutboundHashes["up_plan"] != tt.wantHash {
				t.Errorf("recorded %s %q, want %s %q", p.OutboundAt["up_plan"], p.OutboundHashes["up_plan"], tt.wantAt, tt.wantHash)
			}
		})
	}
}

// TestReportNamesOnlyTheBlockedProperties: the run report lists the mapped
// properties HubSpot cannot take (what setup must fix), not the writable
// ones next to them, and counts the profiles it read from the store.
func TestReportNamesOnlyTheBlockedProperties(t *testing.T) {
	r := newRig(t, Mapping{Userpilot: "tier", HubSpot: "no_such_property"}, Mapping{Userpilot: "plan", HubSpot: "userpilot_plan"})
	r.linker.byMatch["a@example.com"] = r.ids[0]
	r.put(&store.Profile{ID: "a", MatchValue: "a@example.com", Properties: map[string]store.Property{"plan": {Value: "pro", At: time.Now().Add(-time.Minute)}}})
	rep := r.run()
	if len(rep.Objects) != 1 {
		t.Fatalf("report objects %+v", rep.Objects)
	}
	o := rep.Objects[0]
	if !slices.Equal(o.Blocked, []string{"no_such_property"}) {
		t.Errorf("blocked %q, want only no_such_property", o.Blocked)
	}
	if o.Considered != 1 || o.StoreReads != 1 || o.Sent != 1 {
		t.Errorf("counts %+v, want 1 considered, read and sent", o.Counts)
	}
}

// TestCountsAddSumsEveryCount: a run's totals (what `pilotsync status` and
// the run record show) are the sum of every count of its object types.
func TestCountsAddSumsEveryCount(t *testing.T) {
	var users, companies Counts
	vu, vc := reflect.ValueOf(&users).Elem(), reflect.ValueOf(&companies).Elem()
	for i := range vu.NumField() {
		vu.Field(i).SetInt(int64(i + 1))
		vc.Field(i).SetInt(int64(100 * (i + 1)))
	}
	total := Counts{}
	total.Add(users)
	total.Add(companies)
	vt := reflect.ValueOf(total)
	for i := range vt.NumField() {
		if got, want := vt.Field(i).Int(), int64(101*(i+1)); got != want {
			t.Errorf("total %s = %d, want %d", vt.Type().Field(i).Name, got, want)
		}
	}
}

// TestBatchCountsEachProfileOnce: in one batch, a profile HubSpot does not
// know is counted unmatched and left alone while the others still go: one
// sent, one with nothing new (unchanged), one whose value HubSpot's type
// cannot hold (quarantined).
func TestBatchCountsEachProfileOnce(t *testing.T) {
	r := newRig(t, Mapping{Userpilot: "plan", HubSpot: "userpilot_plan"}, Mapping{Userpilot: "seats", HubSpot: "userpilot_seats"})
	r.hs.CreateProperty("contacts", hubspottest.Property{Name: "userpilot_seats", Label: "Seats", Type: "number", FieldType: "number", GroupName: "pilotsync"})
	at := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	for i, id := range []string{"b-sent", "c-unchanged", "d-refused"} {
		r.linker.byMatch[id+"@example.com"] = r.ids[i%len(r.ids)]
	}
	r.put(&store.Profile{ID: "a-unmatched", MatchValue: "a-unmatched@example.com", Properties: map[string]store.Property{"plan": {Value: "pro", At: at}}})
	r.put(&store.Profile{ID: "b-sent", MatchValue: "b-sent@example.com", Properties: map[string]store.Property{"plan": {Value: "team", At: at}}})
	r.put(&store.Profile{ID: "c-unchanged", MatchValue: "c-unchanged@example.com", Properties: map[string]store.Property{"plan": {Value: "free", At: at}},
		OutboundAt: map[string]time.Time{"userpilot_plan": at}})
	r.put(&store.Profile{ID: "d-refused", MatchValue: "d-refused@example.com", Properties: map[string]store.Property{"seats": {Value: "many", At: at}}})
	rep := r.run()
	got := rep.Totals
	if got.Considered != 4 || got.Unmatched != 1 || got.Changed != 1 || got.Sent != 1 || got.Unchanged != 2 || got.Quarantined != 1 {
		t.Errorf("totals %+v, want 4 considered: 1 unmatched, 1 changed and sent, 2 unchanged (nothing new, or only a refused value), 1 quarantined", got)
	}
	if p := r.get("a-unmatched"); p.HubSpotID != "" || p.Dirty {
		t.Errorf("unmatched profile %+v, want left unlinked and settled", p)
	}
}
