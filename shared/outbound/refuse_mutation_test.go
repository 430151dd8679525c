package outbound

import (
	"strings"
	"testing"

	"github.com/pilotsync/pilotsync/shared/identity"
)

// TestPushSharedRecordRefusalQuarantinesOnlyTheSender: two profiles on one
// HubSpot record, one of them with a value HubSpot refuses: only that
// profile's property is quarantined; the other profile's values are sent
// again and land, and it is not counted or listed as quarantined.
func TestPushSharedRecordRefusalQuarantinesOnlyTheSender(t *testing.T) {
	r := newMemRig(t, []Object{usersPlan(Mapping{Userpilot: "stage", HubSpot: "userpilot_stage"})})
	r.put("x1", r.ids[0], "plan", "pro")
	r.put("x2", r.ids[0], "stage", "churned") // not an option of userpilot_stage

	rep := r.run()
	if got := r.record("contacts", r.ids[0]); got["userpilot_plan"] != "pro" || got["userpilot_stage"] != "" {
		t.Errorf("the shared record holds %v, want x1's plan and no stage", got)
	}
	x1, x2 := r.user("x1"), r.user("x2")
	if len(x1.Quarantined) != 0 || x1.OutboundHashes["userpilot_plan"] != identity.ValueHash("pro") || x1.Dirty {
		t.Errorf("x1: quarantined %v hashes %v dirty %v, want its plan recorded as sent", x1.Quarantined, x1.OutboundHashes, x1.Dirty)
	}
	if !strings.Contains(x2.Quarantined["userpilot_stage"], "INVALID_OPTION") || x2.Dirty {
		t.Errorf("x2: quarantined %v dirty %v, want its stage quarantined", x2.Quarantined, x2.Dirty)
	}
	if rep.Totals.Quarantined != 1 || rep.Totals.Sent != 1 || len(rep.Objects[0].Quarantines) != 1 || rep.Objects[0].Quarantines[0].Count != 1 {
		t.Errorf("report %+v quarantines %+v, want x2 alone quarantined and x1 sent", rep.Totals, rep.Objects[0].Quarantines)
	}
}

// TestPushRefusalsAreGroupedAndListed: the records HubSpot refuses for one
// property and reason are one quarantine in the report, counted in full and
// listed (the first few, profile and HubSpot id) in the run record's
// failures; the refused records' other values are sent.
func TestPushRefusalsAreGroupedAndListed(t *testing.T) {
	r := newMemRig(t, []Object{usersPlan(Mapping{Userpilot: "stage", HubSpot: "userpilot_stage"}, Mapping{Userpilot: "seats", HubSpot: "userpilot_seats"})})
	extra := r.hs.SeedContacts(7, nil)
	// Seven profiles with a refused stage, on seven records.
	for i, id := range extra {
		r.put("s"+string(rune('a'+i)), id, "stage", "churned", "plan", "pro")
	}
	rep := r.run()
	or := rep.Objects[0]
	if len(or.Quarantines) != 1 {
		t.Fatalf("quarantines %+v, want one group for INVALID_OPTION on userpilot_stage", or.Quarantines)
	}
	q := or.Quarantines[0]
	if q.Property != "userpilot_stage" || q.Category != "VALIDATION_ERROR" || q.Count != 7 || len(q.Records) != maxListedRecords || !strings.Contains(q.Reason, "churned") {
		t.Errorf("quarantine %+v, want 7 records of VALIDATION_ERROR on userpilot_stage, the first %d listed", q, maxListedRecords)
	}
	if q.Records[0] != "sa (HubSpot "+extra[0]+")" {
		t.Errorf("records %v, want profile ids with their HubSpot ids", q.Records)
	}
	for _, id := range extra {
		if got := r.record("contacts", id); got["userpilot_plan"] != "pro" || got["userpilot_stage"] != "" {
			t.Errorf("record %s holds %v, want the plan sent and no stage", id, got)
		}
	}
	if rep.Totals.Quarantined != 7 || rep.Totals.Sent != 7 {
		t.Errorf("totals %+v, want 7 quarantined and 7 sent", rep.Totals)
	}
	runs := r.runRecords()
	if len(runs) != 1 || len(runs[0].Failures) != maxListedRecords || runs[0].Failures[0].Field != "userpilot_stage" ||
		!strings.HasPrefix(runs[0].Failures[0].Record, "users/") || runs[0].Failures[0].Reason != q.Reason {
		t.Errorf("run records %+v, want the listed quarantined records as failures", runs)
	}
}
