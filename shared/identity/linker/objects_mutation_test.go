package linker_test

import (
	"reflect"
	"testing"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/identity/linker"
	"github.com/pilotsync/pilotsync/shared/store"
)

// TestObjectsFromConfig: the link configuration read from integration.yaml
// decides which HubSpot object and property a profile is matched on, so a
// wrong default or a dropped setting links profiles to the wrong records.
func TestObjectsFromConfig(t *testing.T) {
	no, yes := false, true
	t.Run("defaults", func(t *testing.T) {
		got := linker.ObjectsFromConfig(&config.Config{})
		want := map[store.Kind]linker.Object{
			// Companies have no default HubSpot match property: left out.
			store.KindUser: {HubSpotObject: "contacts", MatchHubSpot: "email", MatchUserpilot: "email", AdditionalEmails: true, ClearOnUnlink: true},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
	})
	t.Run("custom", func(t *testing.T) {
		cfg := &config.Config{Mapping: config.Mapping{
			Users: config.ObjectMapping{
				HubSpotObject: " p_members ", Match: config.Match{HubSpot: "member_id", Userpilot: "user_id"},
				ClearOnUnlink: &no,
				Inbound: []config.PropertyMapping{
					{HubSpot: "firstname"}, // Userpilot side takes the HubSpot name
					{Userpilot: "plan"},    // and the other way round
					{HubSpot: "hs_object_id", Userpilot: "__hubspot__user_id"}, // reserved: pilotsync writes it
					{HubSpot: "lifecyclestage", Userpilot: "stage"},
				},
			},
			Companies: config.ObjectMapping{Match: config.Match{HubSpot: "domain", AdditionalEmails: &yes}},
		}}
		got := linker.ObjectsFromConfig(cfg)
		want := map[store.Kind]linker.Object{
			store.KindUser: {HubSpotObject: "p_members", MatchHubSpot: "member_id", MatchUserpilot: "user_id",
				Inbound: []config.PropertyMapping{{HubSpot: "firstname", Userpilot: "firstname"}, {HubSpot: "plan", Userpilot: "plan"}, {HubSpot: "lifecyclestage", Userpilot: "stage"}}},
			store.KindCompany: {HubSpotObject: "companies", MatchHubSpot: "domain", MatchUserpilot: "company_id", AdditionalEmails: true, ClearOnUnlink: true},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
	})
	t.Run("email without additional emails, users disabled", func(t *testing.T) {
		cfg := &config.Config{Mapping: config.Mapping{
			Users:     config.ObjectMapping{Enabled: &no},
			Companies: config.ObjectMapping{Match: config.Match{HubSpot: "email", AdditionalEmails: &no}, ClearOnUnlink: &yes},
		}}
		got := linker.ObjectsFromConfig(cfg)
		want := map[store.Kind]linker.Object{
			store.KindCompany: {HubSpotObject: "companies", MatchHubSpot: "email", MatchUserpilot: "company_id", ClearOnUnlink: true},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got  %+v\nwant %+v", got, want)
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
