package outbound

import (
	"slices"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/store"
)

// TestIdentifyCompanyChangeIsPushed (issue 14 item 9): an identify_company
// that changes a company property the config maps outbound makes the
// company profile dirty (the merge the forwarder does, with
// Config.OutboundProperties of companies) and the next push writes it to the
// linked HubSpot company; a change of an unmapped company property, or of a
// property mapped only for users, marks nothing and sends nothing.
func TestIdentifyCompanyChangeIsPushed(t *testing.T) {
	cfg := config.Defaults()
	cfg.Userpilot.Environment = env
	cfg.Mapping.Users.Outbound = []config.PropertyMapping{{Userpilot: "plan", HubSpot: "userpilot_plan"}}
	cfg.Mapping.Companies.Outbound = []config.PropertyMapping{{Userpilot: "tier", HubSpot: "userpilot_tier"}}
	pc, err := ConfigFrom(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := newMemRig(t, pc.Objects)
	if got := pc.OutboundProperties(store.KindCompany); !slices.Equal(got, []string{"tier"}) {
		t.Fatalf("company outbound properties %v, want [tier]", got)
	}
	// The company is known and linked (an earlier sync), and clean.
	if err := r.st.PutProfile(t.Context(), &store.Profile{Env: env, Kind: store.KindCompany, ID: "acme", MatchValue: "acme",
		HubSpotID: r.cids[0], HubSpotObject: "companies"}); err != nil {
		t.Fatal(err)
	}
	identifyCompany := func(props map[string]any, at time.Time) {
		t.Helper()
		if _, err := r.st.MergeIdentify(t.Context(), env, store.KindCompany, "acme", store.IdentifyInput{
			Properties: props, At: at, Outbound: pc.OutboundProperties(store.KindCompany)}); err != nil {
			t.Fatal(err)
		}
	}

	// Unmapped, or mapped only for users: no mark, no call.
	identifyCompany(map[string]any{"industry": "retail", "plan": "pro"}, t0)
	if r.get(store.KindCompany, "acme").Dirty {
		t.Fatal("an identify_company of unmapped properties marked the company dirty")
	}
	if rep := r.run(); rep.Totals.Considered != 0 || r.hs.Count(hubspottest.EndpointBatchUpdate) != 0 {
		t.Fatalf("push after an unmapped change: %+v, %d batch updates; want nothing", rep.Totals, r.hs.Count(hubspottest.EndpointBatchUpdate))
	}

	// The mapped tier changes: dirty, and pushed to the company.
	identifyCompany(map[string]any{"tier": "gold"}, t0.Add(time.Minute))
	if !r.get(store.KindCompany, "acme").Dirty {
		t.Fatal("an identify_company changing the mapped tier did not mark the company dirty")
	}
	rep := r.run()
	if got := r.record("companies", r.cids[0])["userpilot_tier"]; got != "gold" || rep.Totals.Sent != 1 {
		t.Errorf("HubSpot company holds tier %q (report %+v), want gold", got, rep.Totals)
	}
	if got := r.record("companies", r.cids[1])["userpilot_tier"]; got != "" {
		t.Errorf("the other company got tier %q", got)
	}
	if c := r.get(store.KindCompany, "acme"); c.Dirty {
		t.Error("the company is still dirty after its push")
	}

	// The same tier again: nothing new to send.
	identifyCompany(map[string]any{"tier": "gold"}, t0.Add(2*time.Minute))
	if rep := r.run(); rep.Totals.Sent != 0 {
		t.Errorf("an unchanged tier was sent again: %+v", rep.Totals)
	}
}
