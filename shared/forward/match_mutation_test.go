package forward

import (
	"testing"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/store"
)

// TestForwarderMatchesOnAConfiguredProperty (issue 14 item 8): users
// matched on a Userpilot property other than email (external_id) against a
// HubSpot property other than email get their events on the record holding
// that value, not on the contact with their email; companies keep the match
// value of their configured property.
func TestForwarderMatchesOnAConfiguredProperty(t *testing.T) {
	cfg := noGrace(testConfig())
	cfg.Mapping.Users.Match = config.Match{Userpilot: "external_id", HubSpot: "external_id"}
	cfg.Mapping.Companies.Match = config.Match{Userpilot: "website", HubSpot: "domain"}
	f, hs, st := sandboxForwarder(t, cfg)
	hs.CreateProperty("contacts", hubspottest.Property{Name: "external_id", Type: "string", FieldType: "text", HasUniqueValue: true})
	byEmail := hs.AddRecords("contacts", []hubspottest.SeedRecord{{Properties: map[string]string{"email": "a@x.com"}}})[0]
	byRef := hs.AddRecords("contacts", []hubspottest.SeedRecord{{Properties: map[string]string{"email": "other@x.com", "external_id": "ext-1"}}})[0]
	batch := msgs(rec("identify_user", "i1", "u1", "metadata", `{"email":"a@x.com","external_id":" EXT-1 "}`),
		rec("identify_company", "c1", "", "company_id", "co1", "metadata", `{"website":"Acme.com","name":"Acme"}`),
		rec("track", "e1", "u1", "event_name", "x"))
	if _, err := f.Process(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	evs := hs.Events()
	if len(evs) != 1 || evs[0].ObjectID != byRef {
		t.Fatalf("events %+v, want e1 on %s (external_id ext-1), not on %s (email)", evs, byRef, byEmail)
	}
	if p := st.profile("production", store.KindUser, "u1"); p == nil || p.MatchValue != "ext-1" || p.HubSpotID != byRef || p.LinkMatch != "ext-1" {
		t.Errorf("user profile %+v, want matched and linked on ext-1", p)
	}
	if p := st.profile("production", store.KindCompany, "co1"); p == nil || p.MatchValue != "acme.com" {
		t.Errorf("company profile %+v, want match value acme.com (its website)", p)
	}
}
