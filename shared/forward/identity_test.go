package forward

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/store"
)

// sandboxForwarder is the forwarder NewFromDeps builds, over the HubSpot
// sandbox and the in-memory store.
func sandboxForwarder(t *testing.T, cfg *config.Config) (*Forwarder, *hubspottest.Server, *memStore) {
	t.Helper()
	hs := hubspottest.NewTestServer(t, hubspottest.Options{Logger: slog.New(slog.DiscardHandler)})
	c, err := hubspot.NewClient(hubspot.WithBaseURL(hs.URL), hubspot.WithToken(hs.Token()), hubspot.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	st := newMemStore()
	f, err := NewFromDeps(Deps{Config: cfg, Store: st, HubSpot: c, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return f, hs, st
}

// TestForwarderAdditionalEmails: a user whose email is a contact's
// additional email gets its events on that contact when additional emails
// are on (the default for email matches), and none when off.
func TestForwarderAdditionalEmails(t *testing.T) {
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprint(on), func(t *testing.T) {
			cfg := noGrace(testConfig())
			cfg.Mapping.Users.Match.AdditionalEmails = &on
			f, hs, _ := sandboxForwarder(t, cfg)
			id := hs.AddRecords("contacts", []hubspottest.SeedRecord{{Properties: map[string]string{"email": "new@x.com", "hs_additional_emails": "old@x.com"}}})[0]
			batch := msgs(rec("identify_user", "i1", "u1", "metadata", `{"email":"old@x.com"}`), rec("track", "e1", "u1", "event_name", "x"))
			if _, err := f.Process(context.Background(), batch); err != nil {
				t.Fatal(err)
			}
			evs := hs.Events()
			if on && (len(evs) != 1 || evs[0].ObjectID != id) {
				t.Errorf("events %+v, want e1 on %s", evs, id)
			}
			if !on && len(evs) != 0 {
				t.Errorf("events %+v, want none with additional emails off", evs)
			}
		})
	}
}

// customObjectForwarder is a forwarder whose users are the HubSpot custom
// object 2-777, matched on app_user_id holding the Userpilot user id, with
// one record for user u-1 (its id is returned).
func customObjectForwarder(t *testing.T) (*Forwarder, *hubspottest.Server, *memStore, string) {
	t.Helper()
	cfg := noGrace(testConfig())
	cfg.Mapping.Users.HubSpotObject = "2-777"
	cfg.Mapping.Users.Match = config.Match{Userpilot: "user_id", HubSpot: "app_user_id"}
	f, hs, st := sandboxForwarder(t, cfg)
	hs.AddObjectType("app_users", "2-777")
	hs.CreateProperty("2-777", hubspottest.Property{Name: "app_user_id", Type: "string", FieldType: "text", HasUniqueValue: true})
	id := hs.AddRecords("2-777", []hubspottest.SeedRecord{{Properties: map[string]string{"app_user_id": "u-1"}}})[0]
	return f, hs, st, id
}

// TestForwarderNonDefaultMapping: users mapped to a custom object, matched
// on a property holding the Userpilot user id (no identify needed).
func TestForwarderNonDefaultMapping(t *testing.T) {
	f, hs, st, id := customObjectForwarder(t)
	hs.AddRecords("contacts", []hubspottest.SeedRecord{{Properties: map[string]string{"email": "u-1"}}})
	rep, err := f.Process(context.Background(), msgs(rec("track", "e1", "u-1", "event_name", "x")))
	if err != nil {
		t.Fatal(err)
	}
	evs := hs.Events()
	if len(evs) != 1 || evs[0].ObjectID != id {
		t.Fatalf("events %+v counts %v, want e1 on the custom object record %s", evs, rep.Counts, id)
	}
	p := st.profile("production", store.KindUser, "u-1")
	if p == nil || p.HubSpotID != id || p.HubSpotObject != "2-777" || p.LinkMatch != "u-1" {
		t.Errorf("stored profile %+v, want linked to %s on 2-777", p, id)
	}
}
