package inbound

import (
	"fmt"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/store"
)

// TestEmailChangedContactIsFoundThroughItsLink: the contact a profile is
// linked to changes its email to one no profile has. Only the by-HubSpot-id
// lookup finds the profile, which must be unlinked (and its ids removed in
// Userpilot), not left on a record it no longer matches.
func TestEmailChangedContactIsFoundThroughItsLink(t *testing.T) {
	e := newEnv(t)
	e.hs.put("contacts", "1001", now0.Add(-time.Hour), map[string]string{"email": "a@example.com", "firstname": "Ann"})
	e.st.add(&store.Profile{Kind: store.KindUser, ID: "u1", MatchValue: "a@example.com"})
	e.run(t, ModeFull)
	if p := e.st.get(store.KindUser, "u1"); p.HubSpotID != "1001" || p.LinkMatch != "a@example.com" {
		t.Fatalf("u1 link %+v, want 1001 under a@example.com", p.Link())
	}
	e.up.reset()
	e.clock.advance(10 * time.Minute)
	e.hs.put("contacts", "1001", now0.Add(5*time.Minute), map[string]string{"email": "z@example.com", "firstname": "Ann"})
	rep := e.run(t, ModeIncremental)
	if p := e.st.get(store.KindUser, "u1"); p.HubSpotID != "" {
		t.Fatalf("u1 still linked to %s after its contact's email changed (counts %+v)", p.HubSpotID, rep.Totals)
	}
	w := e.up.written()["u1"]
	if len(w) != 1 || w[0][KeyUserID] != nil || w[0]["first_name"] != nil {
		t.Errorf("Userpilot writes %v, want the ids and first_name removed", w)
	}
	if _, ok := w[0][KeyUserID]; !ok {
		t.Errorf("Userpilot writes %v, want %s removed", w, KeyUserID)
	}
}

// TestClearOnUnlinkOff keeps the inbound values on unlink when configured.
func TestClearOnUnlinkOff(t *testing.T) {
	for _, clear := range []bool{true, false} {
		t.Run(fmt.Sprint(clear), func(t *testing.T) {
			o := usersObject()
			o.ClearOnUnlink = clear
			e := newEnv(t, o)
			e.hs.put("contacts", "1001", now0.Add(-time.Hour), map[string]string{"email": "a@example.com", "firstname": "Ann"})
			e.st.add(&store.Profile{Kind: store.KindUser, ID: "u1", MatchValue: "a@example.com"})
			e.run(t, ModeFull)
			e.up.reset()
			e.clock.advance(10 * time.Minute)
			e.hs.put("contacts", "1001", now0.Add(5*time.Minute), map[string]string{"email": "z@example.com", "firstname": "Ann"})
			e.run(t, ModeIncremental)
			w := e.up.written()["u1"]
			_, cleared := w[0]["first_name"]
			if len(w) != 1 || cleared != clear {
				t.Errorf("writes %v, want first_name cleared: %v", w, clear)
			}
		})
	}
}

// TestTransientUserpilotFailureFailsTheRestOfThePage: a retryable failure
// on one identify means the rest of the page would fail alike: they are not
// attempted, all count as failed, and the checkpoint does not move.
func TestTransientUserpilotFailureFailsTheRestOfThePage(t *testing.T) {
	e := newEnv(t)
	e.hs.pageSize = 10
	for i := range 5 {
		e.hs.put("contacts", fmt.Sprint(1001+i), now0.Add(-time.Hour), map[string]string{"email": fmt.Sprintf("c%d@example.com", i), "firstname": "F"})
		e.st.add(&store.Profile{Kind: store.KindUser, ID: fmt.Sprintf("u%d", i), MatchValue: fmt.Sprintf("c%d@example.com", i)})
	}
	calls := 0
	e.up.fail = func(string) error {
		calls++
		if calls == 2 {
			return errRetryable
		}
		return nil
	}
	rep := e.run(t, ModeFull)
	o := rep.Objects[0]
	if e.up.identify != 2 || o.Failed != 4 || o.Written != 1 || o.Pages != 0 || o.Complete {
		t.Errorf("identify calls %d, report %+v: want 2 calls, 1 written, 4 failed, no checkpoint", e.up.identify, o)
	}
}

// TestInboundAdditionalEmails: a profile whose email is a contact's
// additional email links when additional emails are on, and not when off.
func TestInboundAdditionalEmails(t *testing.T) {
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprint(on), func(t *testing.T) {
			o := usersObject()
			o.AdditionalEmails = on
			e := newEnv(t, o)
			e.hs.put("contacts", "1001", now0.Add(-time.Hour), map[string]string{"email": "new@example.com", "hs_additional_emails": "old@example.com"})
			e.st.add(&store.Profile{Kind: store.KindUser, ID: "u1", MatchValue: "old@example.com"})
			e.run(t, ModeFull)
			if got := e.st.get(store.KindUser, "u1").HubSpotID; (got == "1001") != on {
				t.Errorf("u1 linked to %q with additional emails %v", got, on)
			}
		})
	}
}

// TestInboundNonDefaultMapping: users mapped to a custom object matched on
// a property holding the Userpilot user id.
func TestInboundNonDefaultMapping(t *testing.T) {
	o := Object{Kind: store.KindUser, HubSpotObject: "2-777", MatchHubSpot: "app_user_id", MatchUserpilot: "user_id",
		Inbound: []config.PropertyMapping{{HubSpot: "plan_tier", Userpilot: "tier"}}}
	e := newEnv(t, o)
	e.hs.put("2-777", "9001", now0.Add(-time.Hour), map[string]string{"app_user_id": "U-1", "plan_tier": "gold"})
	e.hs.put("contacts", "1001", now0.Add(-time.Hour), map[string]string{"email": "U-1"})
	rep := e.run(t, ModeFull)
	if !rep.Complete {
		t.Fatalf("report %+v", rep)
	}
	p := e.st.get(store.KindUser, "U-1")
	if p == nil || p.HubSpotID != "9001" || p.HubSpotObject != "2-777" {
		t.Fatalf("profile %+v, want linked to 9001 on 2-777", p)
	}
	w := e.up.written()["U-1"]
	if len(w) != 1 || w[0]["tier"] != "gold" || w[0][KeyObjectType] != "2-777" || w[0][KeyUserID] != "9001" {
		t.Errorf("Userpilot writes %v", w)
	}
}
