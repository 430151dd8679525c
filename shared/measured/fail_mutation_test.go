package measured

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/store"
)

var errInjected = errors.New("injected fault")

// TestRunFailuresAreReportedAndResumable: a store, linker, HubSpot or audit
// failure during a pass fails the invocation with the cause named (the
// report says incomplete, the run record holds the error), and the next
// invocation continues from the last checkpoint, so no profile is sent
// twice and none is skipped.
func TestRunFailuresAreReportedAndResumable(t *testing.T) {
	for _, tc := range []struct {
		name string
		arm  func(r *rig, l *fakeLinker, audit *error)
		want string
	}{
		{"summaries", func(r *rig, _ *fakeLinker, _ *error) {
			r.st.skip["ActivitySummaries"] = 3
			r.st.setFault("ActivitySummaries", errInjected)
		}, "injected fault"},
		{"profiles", func(r *rig, _ *fakeLinker, _ *error) { r.st.setFault("GetProfiles", errInjected) }, "read 1 user profiles: injected fault"},
		{"linker", func(_ *rig, l *fakeLinker, _ *error) { l.err = errInjected }, "link 1 users: injected fault"},
		{"sent values", func(r *rig, _ *fakeLinker, _ *error) { r.st.setFault("PutMeasuredSent", errInjected) }, "record sent values: injected fault"},
		{"checkpoint", func(r *rig, _ *fakeLinker, _ *error) {
			r.st.skip["PutCursorLeased"] = 3
			r.st.setFault("PutCursorLeased", errInjected)
		}, "checkpoint: injected fault"},
		{"properties", func(r *rig, _ *fakeLinker, _ *error) { r.hs.FailNext(hubspottest.EndpointProperties, 403) }, "list contacts properties: "},
		{"batch update", func(r *rig, _ *fakeLinker, _ *error) { r.hs.FailNext(hubspottest.EndpointBatchUpdate, 403) }, "batch update 1 contacts: "},
		{"audit", func(_ *rig, _ *fakeLinker, audit *error) { *audit = errInjected }, "link audit of users: injected fault"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			mm := r.prop("contacts", "up_events", config.MetricEvents)
			contacts := r.hs.SeedContacts(1, nil)
			// In a late shard: the pages before it are checkpointed.
			u1 := idsInShard("u", 10, 1)[0]
			r.person(store.KindUser, u1, contacts[0], r.day, 1, 4, nil)
			var auditErr error
			audits := 0
			audit := func(context.Context, store.Kind) (map[string]int64, error) {
				audits++
				return map[string]int64{"checked": 1}, auditErr
			}
			e := r.engine([]Target{{Kind: store.KindUser, Object: "contacts", Mappings: []config.MeasuredMapping{mm}}}, Options{}, audit)
			tc.arm(r, r.linker, &auditErr)
			rep, err := e.Run(t.Context(), r.at, ModeStart)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "measured: pass "+rep.Pass+": ") {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if rep.Status != StatusIncomplete {
				t.Errorf("status %s, want incomplete", rep.Status)
			}
			if runs := r.runs(); len(runs) != 1 || !strings.Contains(runs[0].Error, tc.want) {
				t.Errorf("run records %+v, want the error recorded", runs)
			}
			// Cleared, the follow-up finishes the same pass.
			r.st.fail = map[string]error{}
			r.linker.err, auditErr = nil, nil
			r.hs.ClearFaults()
			rep2, err := e.Run(t.Context(), r.at, ModeContinue)
			if err != nil || rep2.Status != StatusComplete || rep2.Pass != rep.Pass {
				t.Fatalf("follow-up: %s pass %s, %v; want pass %s completed", rep2.Status, rep2.Pass, err, rep.Pass)
			}
			if v := r.record("contacts", contacts[0])["up_events"]; v != "4" {
				t.Errorf("HubSpot holds %q, want 4", v)
			}
			if rep.PassCounts[CountSent]+rep2.Counts[CountSent] != 1 && tc.name != "sent values" && tc.name != "checkpoint" {
				t.Errorf("sent %d then %d, want once in all", rep.PassCounts[CountSent], rep2.Counts[CountSent])
			}
		})
	}
}

// TestRunLeaseAndCheckpointErrors: a run finding the lease held does
// nothing and says so; one that cannot take the lease or read its
// checkpoint fails naming it; an unreadable checkpoint is an error, not a
// silent restart.
func TestRunLeaseAndCheckpointErrors(t *testing.T) {
	r := newRig(t)
	mm := r.prop("contacts", "up_events", config.MetricEvents)
	e := r.engine([]Target{{Kind: store.KindUser, Object: "contacts", Mappings: []config.MeasuredMapping{mm}}}, Options{}, nil)
	if err := r.st.Store.AcquireLease(t.Context(), env, JobName, "other", time.Minute); err != nil {
		t.Fatal(err)
	}
	if rep, err := e.Run(t.Context(), r.at, ModeStart); err != nil || rep.Status != StatusLeaseHeld || len(r.hs.Requests()) != 0 {
		t.Errorf("lease held: %+v, %v; want lease_held and nothing done", rep, err)
	}
	if err := r.st.Store.ReleaseLease(t.Context(), env, JobName, "other"); err != nil {
		t.Fatal(err)
	}
	r.st.setFault("AcquireLease", errInjected)
	if rep, err := e.Run(t.Context(), r.at, ModeStart); err == nil || rep != nil || !strings.Contains(err.Error(), "measured: acquire lease: injected fault") {
		t.Errorf("lease error: %+v, %v", rep, err)
	}
	r.st.setFault("AcquireLease", nil)
	r.st.setFault("GetCursor", errInjected)
	if rep, err := e.Run(t.Context(), r.at, ModeStart); err == nil || rep != nil || !strings.Contains(err.Error(), "measured: read checkpoint: injected fault") {
		t.Errorf("checkpoint read error: %+v, %v", rep, err)
	}
	r.st.setFault("GetCursor", nil)
	if err := r.st.Store.PutCursor(t.Context(), env, JobName, "{not json"); err != nil {
		t.Fatal(err)
	}
	if rep, err := e.Run(t.Context(), r.at, ModeStart); err == nil || rep != nil || !strings.Contains(err.Error(), "measured: decode checkpoint") {
		t.Errorf("bad checkpoint: %+v, %v", rep, err)
	}
	// Each run released its lease: the next can take it.
	if err := r.st.Store.AcquireLease(t.Context(), env, JobName, "other", time.Minute); err != nil {
		t.Errorf("lease still held after the failed runs: %v", err)
	}
}

// TestRunRecordSurvivesAFailedRecordWrite: a run whose run record cannot
// be written still reports what it did.
func TestRunRecordSurvivesAFailedRecordWrite(t *testing.T) {
	r := newRig(t)
	mm := r.prop("contacts", "up_events", config.MetricEvents)
	contacts := r.hs.SeedContacts(1, nil)
	r.person(store.KindUser, "u1", contacts[0], r.day, 1, 4, nil)
	r.st.setFault("PutRun", errInjected)
	e := r.engine([]Target{{Kind: store.KindUser, Object: "contacts", Mappings: []config.MeasuredMapping{mm}}}, Options{}, nil)
	rep, err := e.Run(t.Context(), r.at, ModeStart)
	if err != nil || rep.Status != StatusComplete || rep.Counts[CountSent] != 1 {
		t.Errorf("report %+v, %v; want complete", rep, err)
	}
}

// refusing answers, as HubSpot does for a value its property's validation
// rules refuse (rules the sandbox does not model), a per-record
// VALIDATION_ERROR for the chosen records' property (or, with no property,
// for the record), and passes everything else to the sandbox.
type refusing struct {
	*hubspot.Client
	refuse map[string]string // record id -> property ("" names none)
}

func (h refusing) BatchUpdate(ctx context.Context, obj string, in []hubspot.UpdateInput) (*hubspot.BatchUpdateResult, error) {
	var pass []hubspot.UpdateInput
	var failed []hubspot.RecordError
	for _, u := range in {
		if prop, ok := h.refuse[u.ID]; ok {
			failed = append(failed, hubspot.RecordError{ID: u.ID, Category: "VALIDATION_ERROR", Property: prop, Message: "outside the allowed range"})
			continue
		}
		pass = append(pass, u)
	}
	res := &hubspot.BatchUpdateResult{}
	var err error
	if len(pass) > 0 {
		res, err = h.Client.BatchUpdate(ctx, obj, pass)
	}
	if res != nil {
		res.Failed = append(res.Failed, failed...)
	}
	return res, err
}

// TestRunQuarantinesRefusedValues: a value HubSpot refuses for good is
// recorded as quarantined and not sent again until it changes; a refusal
// naming no property holds back every value of the record; the problem is
// reported once per property and reason with the records, however many
// pages it spans; a deleted record and a 2xx that wrote nothing are retried
// by the next run.
func TestRunQuarantinesRefusedValues(t *testing.T) {
	r := newRig(t)
	ev := r.prop("contacts", "up_events", config.MetricEvents)
	se := r.prop("contacts", "up_sessions", config.MetricSessions)
	contacts := r.hs.SeedContacts(5, nil)
	// Refused events in two shards (two pages); a record refused whole; a
	// deleted record; a fine one.
	ids := []string{idsInShard("a", 1, 1)[0], idsInShard("b", 2, 1)[0], "whole", "gone", "fine"}
	for i, id := range ids {
		r.person(store.KindUser, id, contacts[i], r.day, 2, int64(10+i), nil)
	}
	r.hs.Archive("contacts", contacts[3])
	hs := refusing{Client: r.hc, refuse: map[string]string{contacts[0]: "up_events", contacts[1]: "up_events", contacts[2]: ""}}
	e := New(r.st, hs, r.linker, nil, Options{Env: env, PeriodDays: 7, Targets: []Target{{Kind: store.KindUser, Object: "contacts",
		Mappings: []config.MeasuredMapping{ev, se}}}})

	rep, err := e.Run(t.Context(), r.at, ModeStart)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[CountQuarantined] != 4 || rep.Counts[CountRetryLater] != 1 || rep.Counts[CountSent] != 1 {
		t.Errorf("counts %v, want 4 values quarantined, 1 retry, 1 sent", rep.Counts)
	}
	// A refused record wrote nothing: its other values are not recorded as
	// sent (the next run sends them).
	for i, want := range []map[string]string{
		{"up_events": quarantineMark + "10"},
		{"up_events": quarantineMark + "11"},
		{"up_events": quarantineMark + "12", "up_sessions": quarantineMark + "2"},
	} {
		s := r.summary(store.KindUser, ids[i])
		if len(s.Sent) != len(want) || s.SentTo != contacts[i] {
			t.Errorf("%s: recorded %v to %s, want %v", ids[i], s.Sent, s.SentTo, want)
		}
		for k, v := range want {
			if s.Sent[k] != v {
				t.Errorf("%s: %s recorded %q, want %q", ids[i], k, s.Sent[k], v)
			}
		}
	}
	if s := r.summary(store.KindUser, "gone"); len(s.Sent) != 0 {
		t.Errorf("the deleted record's values were recorded as sent: %v", s.Sent)
	}
	// One problem for the refused events (both pages), one for the record
	// refused whole's values.
	events := false
	for _, p := range rep.Problems {
		if p.Key == "measured/contacts/VALIDATION_ERROR/up_events" {
			events = true
			if p.Count != 3 || len(p.Records) != 3 || !strings.Contains(p.Detail, "HubSpot refused up_events for 3 contacts records (VALIDATION_ERROR: outside the allowed range)") {
				t.Errorf("problem %+v, want the three records refusing up_events", p)
			}
		}
	}
	if !events || len(rep.Problems) != 2 {
		t.Errorf("problems %+v, want one per property", rep.Problems)
	}
	failures := 0
	for _, f := range rep.Failures {
		if f.Reason == "VALIDATION_ERROR: outside the allowed range" {
			failures++
		}
	}
	if failures != 4 {
		t.Errorf("failures %+v, want the 4 refused values", rep.Failures)
	}

	// The next run: the refused values are not sent again, the rest of
	// their records is; the deleted record is tried again.
	from := len(r.hs.RequestsTo(hubspottest.EndpointBatchUpdate))
	clear(hs.refuse)
	rep, err = e.Run(t.Context(), r.at, ModeStart)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]string{}
	for _, in := range batchInputs(t, r.hs, from) {
		maps.Copy(got, in)
	}
	want := map[string]map[string]string{contacts[0]: {"up_sessions": "2"}, contacts[1]: {"up_sessions": "2"}, contacts[3]: {"up_events": "13", "up_sessions": "2"}}
	if len(got) != len(want) {
		t.Errorf("second run sent %v, want %v", got, want)
	}
	for id, w := range want {
		if !maps.Equal(got[id], w) {
			t.Errorf("second run sent %v to %s, want %v", got[id], id, w)
		}
	}
	if rep.Counts[CountRetryLater] != 1 || rep.Counts[CountUnchanged] != 2 || rep.Counts[CountSent] != 2 {
		t.Errorf("second run counts %v, want the deleted record retried, two sent, the rest unchanged", rep.Counts)
	}
	// A changed value is sent again.
	r.setEvents(store.KindUser, ids[0], r.day, 20)
	if _, err := e.Run(t.Context(), r.at, ModeStart); err != nil {
		t.Fatal(err)
	}
	if v := r.record("contacts", contacts[0])["up_events"]; v != "20" {
		t.Errorf("the changed value was not sent: %q", v)
	}
}

// TestRunRetriesUnwrittenAndFailedCalls: a 2xx that wrote nothing retries
// the record next run; a call failing as a whole (the daily limit) fails
// the invocation and records nothing as sent.
func TestRunRetriesUnwrittenAndFailedCalls(t *testing.T) {
	r := newRig(t)
	mm := r.prop("contacts", "up_events", config.MetricEvents)
	contacts := r.hs.SeedContacts(1, nil)
	r.person(store.KindUser, "u1", contacts[0], r.day, 1, 4, nil)
	e := r.engine([]Target{{Kind: store.KindUser, Object: "contacts", Mappings: []config.MeasuredMapping{mm}}}, Options{}, nil)
	r.hs.FailNext(hubspottest.EndpointBatchUpdate, hubspottest.FaultEmpty2xx)
	rep, err := e.Run(t.Context(), r.at, ModeStart)
	if err != nil || rep.Counts[CountRetryLater] != 1 || rep.Counts[CountSent] != 0 || len(r.summary(store.KindUser, "u1").Sent) != 0 {
		t.Fatalf("empty answer: %v, %v; want one retry, nothing recorded", rep.Counts, err)
	}
	r.hs.FailNext(hubspottest.EndpointBatchUpdate, hubspottest.FaultDaily)
	rep, err = e.Run(t.Context(), r.at, ModeStart)
	if err == nil || !errors.Is(err, hubspot.ErrDailyLimit) || rep.Counts[CountRetryLater] != 1 || len(r.summary(store.KindUser, "u1").Sent) != 0 {
		t.Fatalf("daily limit: %v, %v; want the error and nothing recorded", rep.Counts, err)
	}
}

// TestRunRetriesEveryProfileOfADeletedRecord: two profiles linked to one
// HubSpot record that was deleted are both counted for a retry (the link
// audit re-links them first), not only the first.
func TestRunRetriesEveryProfileOfADeletedRecord(t *testing.T) {
	r := newRig(t)
	ev := r.prop("contacts", "up_events", config.MetricEvents)
	contacts := r.hs.SeedContacts(1, nil)
	for _, id := range idsInShard("g", 5, 2) {
		r.person(store.KindUser, id, contacts[0], r.day, 1, 3, nil)
	}
	r.hs.Archive("contacts", contacts[0])
	rep, err := r.engine([]Target{{Kind: store.KindUser, Object: "contacts", Mappings: []config.MeasuredMapping{ev}}}, Options{}, nil).Run(t.Context(), r.at, ModeStart)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[CountRetryLater] != 2 || rep.Counts[CountSent] != 0 {
		t.Errorf("counts %v, want both profiles counted for a retry", rep.Counts)
	}
}
