package forward

import (
	"context"
	"testing"

	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/store"
)

// TestForwarderIgnoresLinksToAnotherObject (issue 14 item 8): after users
// are mapped to a custom object, a stored link to a contact (made under the
// old mapping, same match value) is not followed: the user's events go to
// the custom object's record, and the profile is relinked to it.
func TestForwarderIgnoresLinksToAnotherObject(t *testing.T) {
	f, hs, st, id := customObjectForwarder(t)
	contact := hs.AddRecords("contacts", []hubspottest.SeedRecord{{Properties: map[string]string{"email": "u-1"}}})[0]
	st.seed(&store.Profile{Env: "production", Kind: store.KindUser, ID: "u-1", MatchValue: "u-1",
		HubSpotID: contact, HubSpotObject: "contacts", LinkMatch: "u-1"})
	if _, err := f.Process(context.Background(), msgs(rec("track", "e1", "u-1", "event_name", "x"))); err != nil {
		t.Fatal(err)
	}
	evs := hs.Events()
	if len(evs) != 1 || evs[0].ObjectID != id {
		t.Fatalf("events %+v, want e1 on the custom object record %s (not contact %s)", evs, id, contact)
	}
	if p := st.profile("production", store.KindUser, "u-1"); p == nil || p.HubSpotID != id || p.HubSpotObject != "2-777" {
		t.Errorf("stored profile %+v, want relinked to %s on 2-777", p, id)
	}
}
