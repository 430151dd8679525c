package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/store"
)

// seedLinked seeds n contacts and n users with the same emails, and runs a
// first poll so inbound links them; it returns that poll's result.
func (r *pushRig) seedLinked(n int, at time.Time, props func(i int) map[string]any) handler.PollResult {
	r.t.Helper()
	r.hs.SeedContacts(n, func(i int) hubspottest.SeedRecord {
		return hubspottest.SeedRecord{Properties: map[string]string{"email": emailOf(fmt.Sprintf("u%d", i))}, ModifiedAt: time.Now().Add(-48 * time.Hour)}
	})
	r.identify(userIDs(0, n), at, func(id string) map[string]any {
		var i int
		fmt.Sscanf(id, "u%d", &i)
		p := props(i)
		p["email"] = emailOf(id)
		return p
	})
	res, _ := r.poll()
	return res
}

// TestOutboundQuarantine: 5% of 1,000 records fail HubSpot's validation (a
// value that is not one of the property's options). They are quarantined
// with HubSpot's reason and reported once; their other values and every
// other record arrive, and the next poll sends nothing.
func TestOutboundQuarantine(t *testing.T) {
	t.Parallel()
	cfg := pushConfig()
	cfg.Mapping.Users.Outbound = []config.PropertyMapping{
		{Userpilot: "plan", HubSpot: "userpilot_plan"},
		{Userpilot: "tier", HubSpot: "userpilot_tier", Type: config.OutboundEnumeration},
	}
	r := newPushRig(t, cfg)
	r.hs.CreateProperty("contacts", hubspottest.Property{Name: "userpilot_tier", Label: "Tier", Type: "enumeration", FieldType: "select",
		GroupName: "pilotsync", Options: []hubspottest.PropertyOption{{Label: "Free", Value: "free"}, {Label: "Pro", Value: "pro"}}})
	if res := r.invoke(handler.PollInput{Action: handler.PollActionSetup}); res.Status != "ok" {
		t.Fatalf("setup: %+v", res)
	}
	bad := func(i int) bool { return i%20 == 0 }
	res := r.seedLinked(1000, time.Now().Add(-time.Hour), func(i int) map[string]any {
		tier := "pro"
		if bad(i) {
			tier = "platinum"
		}
		return map[string]any{"plan": fmt.Sprintf("plan-%d", i), "tier": tier}
	})
	if got := res.Outbound.Totals; got.Quarantined != 50 || got.Sent != 1000 {
		t.Errorf("totals %+v: want 50 quarantined, 1000 records sent", got)
	}
	hs := r.contacts()
	for i := range 1000 {
		id := fmt.Sprintf("u%d", i)
		c := hs[emailOf(id)]
		if c["userpilot_plan"] != fmt.Sprintf("plan-%d", i) {
			t.Fatalf("%s: plan %q did not arrive", id, c["userpilot_plan"])
		}
		wantTier := "pro"
		if bad(i) {
			wantTier = ""
		}
		if c["userpilot_tier"] != wantTier {
			t.Fatalf("%s: tier %q, want %q", id, c["userpilot_tier"], wantTier)
		}
		p, err := r.st.GetProfile(t.Context(), r.env, store.KindUser, id)
		if err != nil {
			t.Fatal(err)
		}
		q := p.Quarantined["userpilot_tier"]
		if bad(i) != (q != "") || p.Dirty {
			t.Fatalf("%s: quarantined %q, dirty %v", id, q, p.Dirty)
		}
		if bad(i) && (!strings.HasPrefix(q, "VALIDATION_ERROR") || !strings.Contains(q, "platinum")) {
			t.Fatalf("%s: quarantine reason %q, want HubSpot's validation message", id, q)
		}
	}
	problems := r.problems.byPrefix("outbound/")
	if len(problems) != 1 || problems[0].Key != "outbound/users/records/VALIDATION_ERROR/userpilot_tier" || problems[0].Count != 50 || len(problems[0].Records) == 0 {
		t.Fatalf("problems %+v, want one for the 50 refused tiers", problems)
	}
	res, calls := r.poll()
	if calls[hubspottest.EndpointBatchUpdate] != 0 || res.Outbound.Totals.Considered != 0 || len(r.problems.byPrefix("outbound/")) != 1 {
		t.Errorf("second poll: calls %v, totals %+v, %d problems: want nothing new", calls, res.Outbound.Totals, len(r.problems.byPrefix("outbound/")))
	}
	// A new value for a quarantined property is tried again.
	r.identify([]string{"u0"}, time.Now(), func(string) map[string]any { return map[string]any{"tier": "free"} })
	r.poll()
	p, _ := r.st.GetProfile(t.Context(), r.env, store.KindUser, "u0")
	if r.contacts()[emailOf("u0")]["userpilot_tier"] != "free" || p.Quarantined["userpilot_tier"] != "" {
		t.Errorf("u0 after a valid tier: HubSpot %q, quarantine %q", r.contacts()[emailOf("u0")]["userpilot_tier"], p.Quarantined["userpilot_tier"])
	}
}

func typesConfig() *config.Config {
	cfg := pushConfig()
	cfg.Mapping.Users.Outbound = []config.PropertyMapping{
		{Userpilot: "d", HubSpot: "up_date", Type: config.OutboundDate},
		{Userpilot: "dt", HubSpot: "up_datetime", Type: config.OutboundDateTime},
		{Userpilot: "b", HubSpot: "up_bool", Type: config.OutboundBool},
		{Userpilot: "n", HubSpot: "up_number", Type: config.OutboundNumber},
		{Userpilot: "s", HubSpot: "up_text"},
	}
	return cfg
}

// TestOutboundValueFormats: dates, date-times, booleans, zero, false and
// cleared values arrive in HubSpot in HubSpot's formats, in properties setup
// created with the right types.
func TestOutboundValueFormats(t *testing.T) {
	r := newPushRig(t, typesConfig())
	res := r.invoke(handler.PollInput{Action: handler.PollActionSetup})
	if res.Status != "ok" || res.Counts["created"] != 5 {
		t.Fatalf("setup: %+v", res)
	}
	types := map[string]string{}
	for _, p := range r.hs.Properties("contacts") {
		if strings.HasPrefix(p.Name, "up_") {
			types[p.Name] = p.Type + "/" + p.FieldType + "/" + p.GroupName
		}
	}
	for k, want := range map[string]string{"up_date": "date/date/pilotsync", "up_datetime": "datetime/date/pilotsync",
		"up_bool": "bool/booleancheckbox/pilotsync", "up_number": "number/number/pilotsync", "up_text": "string/text/pilotsync"} {
		if types[k] != want {
			t.Errorf("property %s: %s, want %s", k, types[k], want)
		}
	}
	at := time.Now().Add(-time.Hour)
	r.seedLinked(2, at, func(i int) map[string]any {
		if i == 0 {
			return map[string]any{"d": "2026-03-05", "dt": "2026-03-05T10:30:00+02:00", "b": false, "n": 0, "s": "x"}
		}
		return map[string]any{"d": 1767225600000, "dt": 1767225600, "b": true, "n": 12.5, "s": "hello"}
	})
	hs := r.contacts()
	for id, want := range map[string]map[string]string{
		"u0": {"up_date": "2026-03-05", "up_datetime": "2026-03-05T08:30:00Z", "up_bool": "false", "up_number": "0", "up_text": "x"},
		"u1": {"up_date": "2026-01-01", "up_datetime": "2026-01-01T00:00:00Z", "up_bool": "true", "up_number": "12.5", "up_text": "hello"},
	} {
		for k, v := range want {
			if got, ok := hs[emailOf(id)][k]; !ok || got != v {
				t.Errorf("%s %s: HubSpot holds %q (set %v), want %q", id, k, got, ok, v)
			}
		}
	}
	// Removing the properties in Userpilot clears them in HubSpot.
	r.identify([]string{"u0"}, time.Now(), func(string) map[string]any {
		return map[string]any{"d": nil, "b": nil, "n": nil}
	})
	r.poll()
	c := r.contacts()[emailOf("u0")]
	for _, k := range []string{"up_date", "up_bool", "up_number"} {
		if v, ok := c[k]; ok {
			t.Errorf("u0 %s: HubSpot still holds %q after the clear", k, v)
		}
	}
	if c["up_datetime"] != "2026-03-05T08:30:00Z" {
		t.Errorf("u0 datetime %q: a value not cleared was touched", c["up_datetime"])
	}
}

// TestSetupRefusesMismatchedType: a number mapped to an existing date
// property is refused at setup, naming the property, its type and the
// types needed, and nothing is created.
func TestSetupRefusesMismatchedType(t *testing.T) {
	r := newPushRig(t, pushConfig())
	r.hs.CreateProperty("contacts", hubspottest.Property{Name: "userpilot_seats", Label: "Seats", Type: "date", FieldType: "date", GroupName: "contactinformation"})
	for _, dry := range []bool{true, false} {
		res := r.invoke(handler.PollInput{Action: handler.PollActionSetup, DryRun: dry})
		want := `property "userpilot_seats" has type date, but "seats" is mapped as number, which needs a property of type number or string`
		if res.Status != "refused" || !strings.Contains(res.Message, want) {
			t.Errorf("dry run %v: %s %q, want refused with %q", dry, res.Status, res.Message, want)
		}
	}
	for _, p := range r.hs.Properties("contacts") {
		if p.Name == "userpilot_plan" || p.Name == "userpilot_trial_end" {
			t.Errorf("setup created %s despite the refusal", p.Name)
		}
	}
}

// TestOutboundEchoBothWays: with one property mapped both ways, the push's
// write is not copied back to Userpilot by the next inbound poll, a value
// changed in HubSpot reaches Userpilot and is not pushed back, and a later
// change in Userpilot is pushed again.
func TestOutboundEchoBothWays(t *testing.T) {
	cfg := pushConfig()
	cfg.Mapping.Users.Inbound = []config.PropertyMapping{{HubSpot: "userpilot_plan", Userpilot: "plan"}}
	cfg.Mapping.Users.Outbound = []config.PropertyMapping{{Userpilot: "plan", HubSpot: "userpilot_plan"}}
	r := newPushRig(t, cfg)
	if res := r.invoke(handler.PollInput{Action: handler.PollActionSetup}); res.Status != "ok" {
		t.Fatalf("setup: %+v", res)
	}
	r.seedLinked(10, time.Now().Add(-time.Hour), func(int) map[string]any { return map[string]any{"plan": "pro"} })
	if v := r.contacts()[emailOf("u0")]["userpilot_plan"]; v != "pro" {
		t.Fatalf("HubSpot plan %q after the first poll, want pro", v)
	}
	planWrites := func() int {
		n := 0
		for _, u := range r.up.Users() {
			if _, ok := u.Metadata["plan"]; ok {
				n++
			}
		}
		return n
	}
	res, calls := r.poll() // inbound reads the 10 records the push just wrote
	if planWrites() != 0 || calls[hubspottest.EndpointBatchUpdate] != 0 || res.Inbound.Totals.Echoes != 10 {
		t.Fatalf("echo poll: %d Userpilot plan writes, %d batch updates, %d echoes; want 0, 0, 10", planWrites(), calls[hubspottest.EndpointBatchUpdate], res.Inbound.Totals.Echoes)
	}
	ids := map[string]string{}
	for _, rec := range r.hs.Records("contacts") {
		ids[rec.Properties["email"]] = rec.ID
	}
	r.hs.Update("contacts", ids[emailOf("u0")], map[string]string{"userpilot_plan": "enterprise"})
	_, calls = r.poll()
	if u, _ := r.up.User("u0"); u.Metadata["plan"] != "enterprise" || calls[hubspottest.EndpointBatchUpdate] != 0 {
		t.Fatalf("HubSpot edit: Userpilot plan %v, %d batch updates; want enterprise, none", u.Metadata["plan"], calls[hubspottest.EndpointBatchUpdate])
	}
	r.identify([]string{"u0"}, time.Now(), func(string) map[string]any { return map[string]any{"plan": "pro"} })
	_, calls = r.poll()
	if v := r.contacts()[emailOf("u0")]["userpilot_plan"]; v != "pro" || calls[hubspottest.EndpointBatchUpdate] != 1 {
		t.Errorf("Userpilot change after the HubSpot edit: HubSpot %q, %d batch updates; want pro, 1", v, calls[hubspottest.EndpointBatchUpdate])
	}
}
