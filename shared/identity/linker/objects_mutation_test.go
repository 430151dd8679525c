package linker_test

import (
	"reflect"
	"testing"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/identity/linker"
	"github.com/pilotsync/pilotsync/shared/store"
)

// TestObjectsFromConfig: the link configuration read from integration.yaml
// (through config.Parse, which applies the defaults once) decides which
// HubSpot object and property a profile is matched on, so a wrong default or
// a dropped setting links profiles to the wrong records.
func TestObjectsFromConfig(t *testing.T) {
	parse := func(t *testing.T, src string) *config.Config {
		t.Helper()
		cfg, err := config.Parse("integration.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	t.Run("defaults", func(t *testing.T) {
		got := linker.ObjectsFromConfig(config.Defaults())
		want := map[store.Kind]linker.Object{
			// Companies have no default HubSpot match property: left out.
			store.KindUser: {HubSpotObject: "contacts", MatchHubSpot: "email", MatchUserpilot: "email", AdditionalEmails: true, ClearOnUnlink: true},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
	})
	t.Run("custom", func(t *testing.T) {
		cfg := parse(t, `
mapping:
  users:
    hubspot_object: p_members
    match: {hubspot: member_id, userpilot: user_id}
    clear_on_unlink: false
    inbound:
      - hubspot: firstname   # the Userpilot side takes the HubSpot name
      - userpilot: plan      # and the other way round
      - {hubspot: lifecyclestage, userpilot: stage}
  companies:
    match: {hubspot: domain}
`)
		got := linker.ObjectsFromConfig(cfg)
		want := map[store.Kind]linker.Object{
			store.KindUser: {HubSpotObject: "p_members", MatchHubSpot: "member_id", MatchUserpilot: "user_id",
				Inbound: []config.PropertyMapping{{HubSpot: "firstname", Userpilot: "firstname"}, {HubSpot: "plan", Userpilot: "plan"}, {HubSpot: "lifecyclestage", Userpilot: "stage"}}},
			store.KindCompany: {HubSpotObject: "companies", MatchHubSpot: "domain", MatchUserpilot: "company_id", ClearOnUnlink: true},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
	})
	t.Run("email without additional emails, users disabled", func(t *testing.T) {
		cfg := parse(t, `
mapping:
  users:
    enabled: false
  companies:
    match: {hubspot: email, additional_emails: false}
    clear_on_unlink: true
activity:
  sink: none
`)
		got := linker.ObjectsFromConfig(cfg)
		want := map[store.Kind]linker.Object{
			store.KindCompany: {HubSpotObject: "companies", MatchHubSpot: "email", MatchUserpilot: "company_id", ClearOnUnlink: true},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
	})
	t.Run("reserved property in a hand-built config", func(t *testing.T) {
		// config.Parse refuses a __hubspot__ target; a config built in code
		// is not validated, and the linker still never lists one.
		cfg := config.Defaults()
		cfg.Mapping.Users.Inbound = []config.PropertyMapping{{HubSpot: "hs_object_id", Userpilot: "__hubspot__user_id"}, {HubSpot: "firstname", Userpilot: "first_name"}}
		got := linker.ObjectsFromConfig(cfg)[store.KindUser].Inbound
		if want := []config.PropertyMapping{{HubSpot: "firstname", Userpilot: "first_name"}}; !reflect.DeepEqual(got, want) {
			t.Errorf("inbound %+v, want %+v", got, want)
		}
	})
}

// TestIDMatch: which Userpilot match properties are the profile id itself.
func TestIDMatch(t *testing.T) {
	for _, c := range []struct {
		match string
		kind  store.Kind
		want  bool
	}{
		{"id", store.KindUser, true}, {"id", store.KindCompany, true},
		{"user_id", store.KindUser, true}, {"user_id", store.KindCompany, false},
		{"company_id", store.KindCompany, true}, {"company_id", store.KindUser, false},
		{"email", store.KindUser, false}, {"email", store.KindCompany, false},
	} {
		if got := (linker.Object{MatchUserpilot: c.match}).IDMatch(c.kind); got != c.want {
			t.Errorf("IDMatch(%s, %s) = %v, want %v", c.match, c.kind, got, c.want)
		}
	}
}
