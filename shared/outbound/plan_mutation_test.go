package outbound

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/store"
)

// TestPushSkipsBlocksAndRefusesPerProperty: the send rules act per mapped
// property, never on the whole profile: a property never set in Userpilot
// sends nothing (and does not block); one mapped to a HubSpot property that
// is missing or read-only keeps the profile dirty while its other values are
// sent; a value HubSpot's type cannot hold is quarantined, not sent, and the
// other values still go.
func TestPushSkipsBlocksAndRefusesPerProperty(t *testing.T) {
	// plan comes last: whatever happens to the others, it must still go.
	r := newRig(t,
		Mapping{Userpilot: "tier", HubSpot: "no_such_property"},
		Mapping{Userpilot: "seats", HubSpot: "userpilot_seats"},
		Mapping{Userpilot: "score", HubSpot: "userpilot_score"},
		Mapping{Userpilot: "plan", HubSpot: "userpilot_plan"},
	)
	r.hs.CreateProperty("contacts", hubspottest.Property{Name: "userpilot_seats", Label: "Seats", Type: "number", FieldType: "number", GroupName: "pilotsync"})
	r.hs.CreateProperty("contacts", hubspottest.Property{Name: "userpilot_score", Label: "Score", Type: "number", FieldType: "number", GroupName: "pilotsync", ReadOnlyValue: true})
	// The rig's catalog is read at the push's first run, so the properties
	// above are known to it.
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	prop := func(kv ...any) map[string]store.Property {
		m := map[string]store.Property{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = store.Property{Value: kv[i+1], At: t0}
		}
		return m
	}
	for i, id := range []string{"unset", "blocked", "readonly", "refused"} {
		r.linker.byMatch[id+"@example.com"] = r.ids[i%len(r.ids)]
	}
	// unset: only plan and seats are set; tier and score never were.
	r.put(&store.Profile{ID: "unset", MatchValue: "unset@example.com", Properties: prop("plan", "pro", "seats", 5.0)})
	rep := r.run()
	// The missing and read-only properties fail the report (setup must fix
	// them) whether or not a profile sets them.
	if rep.Totals.Sent != 1 || !strings.Contains(rep.Error, "no_such_property") || !strings.Contains(rep.Error, "userpilot_score") {
		t.Fatalf("unset: report %s %q %+v, want one profile sent and the setup problems named", rep.Status, rep.Error, rep.Totals)
	}
	if got := r.hubspot(r.ids[0]); got["userpilot_plan"] != "pro" || got["userpilot_seats"] != "5" {
		t.Errorf("unset: HubSpot holds %v, want plan pro and seats 5", got)
	}
	if p := r.get("unset"); p.Dirty || len(p.Quarantined) != 0 {
		t.Errorf("unset: %+v, want clean: a property never set blocks nothing", p)
	}

	// blocked: tier maps to a property HubSpot does not have.
	r.put(&store.Profile{ID: "blocked", MatchValue: "blocked@example.com", Properties: prop("plan", "team", "tier", "gold")})
	r.run()
	if got := r.hubspot(r.ids[1]); got["userpilot_plan"] != "team" {
		t.Errorf("blocked: HubSpot holds %v, want plan team sent all the same", got)
	}
	if p := r.get("blocked"); !p.Dirty {
		t.Errorf("blocked: %+v, want still dirty until setup creates the property", p)
	}

	// readonly: score maps to a read-only property.
	r.put(&store.Profile{ID: "readonly", MatchValue: "readonly@example.com", Properties: prop("plan", "free", "score", 3.0)})
	r.run()
	if got := r.hubspot(r.ids[2]); got["userpilot_plan"] != "free" || got["userpilot_score"] != "" {
		t.Errorf("readonly: HubSpot holds %v, want plan free and no score", got)
	}
	if p := r.get("readonly"); !p.Dirty {
		t.Errorf("readonly: %+v, want still dirty", p)
	}

	// refused: seats is not a number.
	r.put(&store.Profile{ID: "refused", MatchValue: "refused@example.com", Properties: prop("plan", "enterprise", "seats", "lots")})
	r.run()
	if got := r.hubspot(r.ids[0]); got["userpilot_plan"] != "enterprise" || got["userpilot_seats"] != "5" {
		t.Errorf("refused: HubSpot holds %v, want plan enterprise and seats left at 5", got)
	}
	p := r.get("refused")
	if p.Dirty || !strings.Contains(p.Quarantined["userpilot_seats"], "TYPE_MISMATCH") || p.OutboundHashes["userpilot_seats"] != "" {
		t.Errorf("refused: dirty %v quarantined %v hashes %v, want seats quarantined and the profile clean", p.Dirty, p.Quarantined, p.OutboundHashes)
	}
}

// TestConfigFrom: the push's config decides which kinds and properties are
// written to which HubSpot object.
func TestConfigFrom(t *testing.T) {
	no := false
	cfg := &config.Config{Mapping: config.Mapping{
		Users: config.ObjectMapping{HubSpotObject: "contacts",
			Inbound:  []config.PropertyMapping{{HubSpot: "userpilot_plan", Userpilot: "plan"}, {HubSpot: "other", Userpilot: "seats"}},
			Outbound: []config.PropertyMapping{{HubSpot: "userpilot_plan", Userpilot: "plan"}, {HubSpot: "userpilot_seats", Userpilot: "seats"}}},
		Companies: config.ObjectMapping{HubSpotObject: "companies",
			Outbound: []config.PropertyMapping{{HubSpot: "tier", Userpilot: "tier"}}},
	}}
	cfg.Userpilot.Environment = config.DefaultEnvironment // config.Load applies the defaults once
	got, err := ConfigFrom(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Env: config.DefaultEnvironment, Objects: []Object{
		{Kind: store.KindUser, HubSpotObject: "contacts", Mappings: []Mapping{
			{Userpilot: "plan", HubSpot: "userpilot_plan", EchoOf: true}, // inbound copies the same pair
			{Userpilot: "seats", HubSpot: "userpilot_seats"},             // inbound's seats comes from another property
		}},
		{Kind: store.KindCompany, HubSpotObject: "companies", Mappings: []Mapping{{Userpilot: "tier", HubSpot: "tier"}}},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ConfigFrom\n got %+v\nwant %+v", got, want)
	}
	if p := got.OutboundProperties(store.KindUser); !reflect.DeepEqual(p, []string{"plan", "seats"}) {
		t.Errorf("user outbound properties %v", p)
	}
	if p := got.OutboundProperties(store.KindCompany); !reflect.DeepEqual(p, []string{"tier"}) {
		t.Errorf("company outbound properties %v", p)
	}

	// A disabled kind, or one without outbound mappings, is left out; the
	// environment is the configured one.
	cfg.Userpilot.Environment = "staging"
	cfg.Mapping.Users.Enabled = &no
	cfg.Mapping.Companies.Outbound = nil
	got, err = ConfigFrom(cfg)
	if err != nil || got.Env != "staging" || len(got.Objects) != 0 || got.OutboundProperties(store.KindUser) != nil {
		t.Errorf("ConfigFrom = %+v, %v; want env staging and no objects", got, err)
	}

	// An enabled kind with outbound mappings needs a HubSpot object.
	cfg.Mapping.Users.Enabled = nil
	cfg.Mapping.Users.HubSpotObject = ""
	if _, err := ConfigFrom(cfg); err == nil {
		t.Error("ConfigFrom accepted outbound mappings without a hubspot object")
	}
}
