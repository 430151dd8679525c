package outbound

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
)

// TestPushEveryGoneRecordIsRelinkedAndSent: when HubSpot reports several
// records of one call deleted and the linker finds each profile's record
// again, every one of them is sent to its new record, none left behind.
func TestPushEveryGoneRecordIsRelinkedAndSent(t *testing.T) {
	r := newMemRig(t, nil)
	now := r.hs.SeedContacts(2, nil)
	r.hs.Archive("contacts", r.ids[0])
	r.hs.Archive("contacts", r.ids[1])
	r.linker.byMatch["a@example.com"], r.linker.byMatch["b@example.com"] = now[0], now[1]
	r.put("a", r.ids[0], "plan", "pro")
	r.put("b", r.ids[1], "plan", "team")
	rep := r.run()
	if rep.Totals.Gone != 2 || rep.Totals.Sent != 2 || rep.Totals.Unmatched != 0 || rep.Status != StatusComplete {
		t.Errorf("report %s %+v, want both gone, re-linked and sent", rep.Status, rep.Totals)
	}
	for i, id := range []string{"a", "b"} {
		p := r.user(id)
		if p.HubSpotID != now[i] || p.Dirty || p.OutboundHashes["userpilot_plan"] == "" {
			t.Errorf("%s: linked %q (want %s) dirty %v hashes %v, want sent to its new record", id, p.HubSpotID, now[i], p.Dirty, p.OutboundHashes)
		}
	}
	if a, b := r.record("contacts", now[0])["userpilot_plan"], r.record("contacts", now[1])["userpilot_plan"]; a != "pro" || b != "team" {
		t.Errorf("new records hold %q and %q, want pro and team", a, b)
	}
}

// TestPushStopsSendingAfterARelinkFailure: a call in which one record is
// gone (and linking its profile again fails) and another has a value
// refused ends the kind's rounds: the failure is reported, not lost in a
// later round, and the refused record's other values wait, marked, for the
// next run.
func TestPushStopsSendingAfterARelinkFailure(t *testing.T) {
	r := newMemRig(t, []Object{usersPlan(Mapping{Userpilot: "stage", HubSpot: "userpilot_stage"})})
	r.push.linker = &failLinker{fakeLinker: r.linker, goneErr: errors.New("search failed")}
	r.hs.Archive("contacts", r.ids[0])
	r.put("a", r.ids[0], "plan", "pro")
	r.put("x", r.ids[1], "plan", "team", "stage", "churned") // not an option of userpilot_stage
	rep := r.run()
	if rep.Status != StatusFailed || !strings.Contains(rep.Objects[0].Error, "re-resolve 1 gone contacts: search failed") {
		t.Errorf("report %s %q, want the re-link failure", rep.Status, rep.Objects[0].Error)
	}
	if rep.Totals.Batches != 1 {
		t.Errorf("%d batch updates, want 1: no round after the failure", rep.Totals.Batches)
	}
	x := r.user("x")
	if !x.Dirty || !strings.Contains(x.Quarantined["userpilot_stage"], "INVALID_OPTION") || x.OutboundHashes["userpilot_plan"] != "" {
		t.Errorf("x: dirty %v quarantined %v hashes %v, want its stage quarantined and its plan still to send", x.Dirty, x.Quarantined, x.OutboundHashes)
	}
	if v := r.record("contacts", r.ids[1])["userpilot_plan"]; v != "" {
		t.Errorf("x's record got plan %q in a round after the failure", v)
	}
}

// refusesFor answers every batch update as HubSpot refusing each record for
// property (one pilotsync did not send: a required field, another field's
// validation rule).
type refusesFor struct {
	HubSpot
	property string
}

func (f refusesFor) BatchUpdate(_ context.Context, _ string, inputs []hubspot.UpdateInput) (*hubspot.BatchUpdateResult, error) {
	res := &hubspot.BatchUpdateResult{}
	for _, in := range inputs {
		res.Failed = append(res.Failed, hubspot.RecordError{ID: in.ID, Category: "VALIDATION_ERROR", Message: "required", Property: f.property})
	}
	return res, nil
}

// TestPushRefusalNamingAnUnsentPropertyQuarantinesTheRecord: HubSpot
// refusing a record for a property pilotsync did not send refuses every
// value sent: all are quarantined at once, not sent again round after round.
func TestPushRefusalNamingAnUnsentPropertyQuarantinesTheRecord(t *testing.T) {
	r := newMemRig(t, []Object{usersPlan(Mapping{Userpilot: "seats", HubSpot: "userpilot_seats"})})
	r.push.hs = refusesFor{HubSpot: r.hc, property: "hs_lead_status"}
	r.put("x", r.ids[0], "plan", "pro", "seats", 3)
	rep := r.run()
	if rep.Totals.Batches != 1 || rep.Totals.Quarantined != 1 || rep.Totals.Sent != 0 {
		t.Errorf("report %+v, want one call and x quarantined", rep.Totals)
	}
	x := r.user("x")
	for _, prop := range []string{"userpilot_plan", "userpilot_seats"} {
		if !strings.Contains(x.Quarantined[prop], "VALIDATION_ERROR: required") {
			t.Errorf("x: %s quarantined %q, want HubSpot's reason", prop, x.Quarantined[prop])
		}
	}
	if x.Dirty || x.OutboundHashes["userpilot_plan"] == identity.ValueHash("pro") {
		t.Errorf("x: dirty %v hashes %v, want settled as refused, nothing recorded as sent", x.Dirty, x.OutboundHashes)
	}
}

// answersNothing answers every batch update with neither an update nor a
// failure for any record.
type answersNothing struct{ HubSpot }

func (answersNothing) BatchUpdate(context.Context, string, []hubspot.UpdateInput) (*hubspot.BatchUpdateResult, error) {
	return &hubspot.BatchUpdateResult{}, nil
}

// TestPushRecordsHubSpotSaidNothingAboutStayDirty: a record the batch
// update's answer does not mention is counted for retry and stays dirty,
// with nothing recorded as sent.
func TestPushRecordsHubSpotSaidNothingAboutStayDirty(t *testing.T) {
	r := newMemRig(t, nil)
	r.push.hs = answersNothing{HubSpot: r.hc}
	r.put("a", r.ids[0], "plan", "pro")
	r.put("b", r.ids[1], "plan", "team")
	rep := r.run()
	if rep.Totals.Retry != 2 || rep.Totals.Sent != 0 || rep.Totals.Quarantined != 0 {
		t.Errorf("report %+v, want both counted for retry", rep.Totals)
	}
	for _, id := range []string{"a", "b"} {
		if p := r.user(id); !p.Dirty || len(p.OutboundHashes) != 0 {
			t.Errorf("%s: dirty %v hashes %v, want still dirty with nothing recorded", id, p.Dirty, p.OutboundHashes)
		}
	}
}

// looseLinker answers NotFound for the profiles in resolveNotFound (on
// Resolve) and goneNotFound (on Gone) but leaves them a HubSpot id: a linker
// breaking its contract (a profile not linked has no HubSpot id), which the
// push must not trust.
type looseLinker struct {
	*fakeLinker
	resolveNotFound, goneNotFound map[string]bool
}

func loosen(rs map[string]identity.Resolution, err error, ps []*store.Profile, notFound map[string]bool) (map[string]identity.Resolution, error) {
	for _, p := range ps {
		if notFound[p.ID] {
			rs[p.ID] = identity.Resolution{Outcome: identity.NotFound}
			if p.HubSpotID == "" {
				p.HubSpotID, p.HubSpotObject = "stale-"+p.ID, "contacts" // left behind
			}
		}
	}
	return rs, err
}

func (l looseLinker) Resolve(ctx context.Context, kind store.Kind, ps []*store.Profile) (map[string]identity.Resolution, error) {
	rs, err := l.fakeLinker.Resolve(ctx, kind, ps)
	return loosen(rs, err, ps, l.resolveNotFound)
}

func (l looseLinker) Gone(ctx context.Context, kind store.Kind, ps []*store.Profile) (map[string]identity.Resolution, error) {
	rs, err := l.fakeLinker.Gone(ctx, kind, ps)
	return loosen(rs, err, ps, l.goneNotFound)
}

// TestPushSendsOnlyToLinkedRecords: a profile the linker does not answer
// Linked for is never written, whatever HubSpot id it still carries, before
// the call and after HubSpot reported its record gone.
func TestPushSendsOnlyToLinkedRecords(t *testing.T) {
	r := newMemRig(t, nil)
	r.push.linker = looseLinker{fakeLinker: r.linker, resolveNotFound: map[string]bool{"a": true}, goneNotFound: map[string]bool{"g": true}}
	r.hs.Archive("contacts", r.ids[2])
	r.put("a", r.ids[0], "plan", "pro")  // answered NotFound, still carrying ids[0]
	r.put("b", r.ids[1], "plan", "team") // linked
	r.put("g", r.ids[2], "plan", "gold") // gone, then NotFound with a stale id
	rep := r.run()
	if rep.Totals.Unmatched != 2 || rep.Totals.Sent != 1 || rep.Totals.Batches != 1 || rep.Totals.Gone != 1 {
		t.Errorf("report %+v, want a and g unmatched, b sent, one call", rep.Totals)
	}
	if v := r.record("contacts", r.ids[0])["userpilot_plan"]; v != "" {
		t.Errorf("a's old record got %q: a profile not linked was written", v)
	}
	if v := r.record("contacts", r.ids[1])["userpilot_plan"]; v != "team" {
		t.Errorf("b's record holds %q, want team", v)
	}
}
