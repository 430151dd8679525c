package outbound

import (
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/store"
)

// TestPushSharedRecordAndRefusedProperty: two profiles linked to one HubSpot
// record are sent as one input holding both profiles' values, and only to
// that record; a value HubSpot refuses (an option the enumeration lacks)
// quarantines that property alone, and the record's other values are sent
// again and land.
func TestPushSharedRecordAndRefusedProperty(t *testing.T) {
	r := newRig(t,
		Mapping{Userpilot: "stage", HubSpot: "userpilot_stage"},
		Mapping{Userpilot: "seats", HubSpot: "userpilot_seats"},
		Mapping{Userpilot: "plan", HubSpot: "userpilot_plan"},
	)
	r.hs.CreateProperty("contacts", hubspottest.Property{Name: "userpilot_seats", Label: "Seats", Type: "number", FieldType: "number", GroupName: "pilotsync"})
	r.hs.CreateProperty("contacts", hubspottest.Property{Name: "userpilot_stage", Label: "Stage", Type: "enumeration", FieldType: "select", GroupName: "pilotsync",
		Options: []hubspottest.PropertyOption{{Label: "Trial", Value: "trial"}, {Label: "Paid", Value: "paid"}}})
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	linked := func(id, hsID string, props map[string]any) {
		p := &store.Profile{ID: id, MatchValue: id + "@example.com", HubSpotID: hsID, HubSpotObject: "contacts", Properties: map[string]store.Property{}}
		for k, v := range props {
			p.Properties[k] = store.Property{Value: v, At: t0}
		}
		r.put(p)
	}
	for _, id := range []string{"x1", "x2", "y"} {
		r.linker.byMatch[id+"@example.com"] = map[string]string{"x1": r.ids[0], "x2": r.ids[0], "y": r.ids[1]}[id]
	}
	linked("x1", r.ids[0], map[string]any{"plan": "pro"})
	linked("x2", r.ids[0], map[string]any{"seats": 7.0})
	linked("y", r.ids[1], map[string]any{"plan": "team", "stage": "churned"})

	rep := r.run()
	if got := r.hubspot(r.ids[0]); got["userpilot_plan"] != "pro" || got["userpilot_seats"] != "7" {
		t.Errorf("shared record holds %v, want x1's plan and x2's seats", got)
	}
	got := r.hubspot(r.ids[1])
	if got["userpilot_plan"] != "team" || got["userpilot_seats"] != "" || got["userpilot_stage"] != "" {
		t.Errorf("y's record holds %v, want only y's plan", got)
	}
	for _, id := range []string{"x1", "x2"} {
		if p := r.get(id); p.Dirty || len(p.OutboundHashes) != 1 || len(p.Quarantined) != 0 {
			t.Errorf("%s after the push: dirty %v hashes %v quarantined %v, want its one value recorded as sent", id, p.Dirty, p.OutboundHashes, p.Quarantined)
		}
	}
	y := r.get("y")
	if y.Dirty || !strings.Contains(y.Quarantined["userpilot_stage"], "churned") && !strings.Contains(y.Quarantined["userpilot_stage"], "INVALID_OPTION") || y.OutboundHashes["userpilot_plan"] == "" {
		t.Errorf("y after the push: dirty %v quarantined %v hashes %v, want stage quarantined and plan sent", y.Dirty, y.Quarantined, y.OutboundHashes)
	}
	if _, ok := y.Quarantined["userpilot_plan"]; ok {
		t.Errorf("y's plan quarantined (%v): only the refused property may be", y.Quarantined)
	}
	if rep.Totals.Quarantined != 1 || rep.Totals.Sent != 3 {
		t.Errorf("report %+v, want 3 profiles sent and 1 quarantined", rep.Totals)
	}
}
