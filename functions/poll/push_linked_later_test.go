package main

import (
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

// TestOutboundPushAfterLaterLink: u1 is identified with mapped values while
// HubSpot has no contact for it, so the push finds it unmatched and clears
// its dirty mark. The contact is created in HubSpot later; the poll whose
// inbound sync links it must also send u1's values (they were never sent to
// that record), not wait until they change again.
func TestOutboundPushAfterLaterLink(t *testing.T) {
	r := newPushRig(t, pushConfig())
	if res := r.invoke(handler.PollInput{Action: handler.PollActionSetup}); res.Status != "ok" {
		t.Fatalf("setup: %+v", res)
	}
	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	r.identify([]string{"u1"}, t0, func(id string) map[string]any {
		return map[string]any{"email": emailOf(id), "plan": "pro", "seats": 3, "trial_end": "2026-12-01"}
	})
	res, _ := r.poll()
	if got := res.Outbound.Totals; got.Unmatched != 1 || got.Sent != 0 {
		t.Fatalf("first poll: totals %+v, want u1 unmatched and nothing sent", got)
	}

	r.hs.SeedContacts(1, func(int) hubspottest.SeedRecord {
		return hubspottest.SeedRecord{Properties: map[string]string{"email": emailOf("u1"), "firstname": "Una"}, ModifiedAt: time.Now()}
	})
	res, _ = r.poll()
	if res.Inbound == nil || res.Inbound.Totals.Linked != 1 {
		t.Fatalf("second poll did not link u1: %+v", res.Inbound)
	}
	c := r.contacts()[emailOf("u1")]
	want := map[string]string{"userpilot_plan": "pro", "userpilot_seats": "3", "userpilot_trial_end": "2026-12-01"}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("contact %s = %q, want %q (contact %v, push %+v)", k, c[k], v, c, res.Outbound.Totals)
		}
	}
	// Sent once: the next poll has nothing to send.
	res, _ = r.poll()
	if got := res.Outbound.Totals; got.Sent != 0 {
		t.Errorf("third poll sent %+v, want nothing", got)
	}
}
