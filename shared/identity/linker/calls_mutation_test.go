package linker_test

import (
	"testing"

	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

// TestResolveValidLinksAsksHubSpotNothing: profiles whose links are valid
// for their match value resolve from the store alone, without a HubSpot
// call (every call counts against the account's limits; the forwarder
// resolves every batch).
func TestResolveValidLinksAsksHubSpotNothing(t *testing.T) {
	r := newRig(t, emailUsers, hubspottest.Options{})
	a := r.contact(map[string]string{"email": "a@x.com"})
	r.link("ua", "a@x.com", a, "a@x.com")
	p := r.stored("ua")
	r.hs.ResetRequests()
	res := r.resolve(p)
	if got := res["ua"]; got.HubSpotID != a || got.Relinked {
		t.Fatalf("resolution %+v, want the stored link to %s", got, a)
	}
	if n := len(r.hs.Requests()); n != 0 {
		t.Errorf("%d HubSpot requests resolving a valid link, want none: %v", n, r.hs.Counts())
	}
}
