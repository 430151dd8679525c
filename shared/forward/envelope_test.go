package forward

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/pilotsync/pilotsync/shared/activity"
	"github.com/pilotsync/pilotsync/shared/store"
)

// TestUnknownEventTypeIsUnclassified: an event type Userpilot does not
// document is counted and reported as unclassified (its name only when it
// is a safe name), never dead-lettered, aggregated or sent (issue 9.12).
func TestUnknownEventTypeIsUnclassified(t *testing.T) {
	runs := &runLog{}
	e := newEnv(t, testConfig(), func(o *Options) { o.Runs = runs })
	e.link("u1", "101")
	rep, err := e.f.Process(context.Background(), msgs(
		rec("screen_view", "a", "u1"),
		rec("<script>alert(1)</script>", "b", "u1"),
		rec("track", "c", "u1", "event_name", "x"),
	))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.DeadLettered) != 0 || len(rep.Failed) != 0 {
		t.Fatalf("dead-lettered %v, failed %v: want neither", rep.DeadLettered, rep.Failed)
	}
	if rep.Counts[CountUnknownEventType] != 2 || rep.Counts[CountSent] != 1 || rep.Counts[CountAggregated] != 1 {
		t.Errorf("counts %v, want 2 unknown event types, the track sent and aggregated", rep.Counts)
	}
	if rep.Unknown["screen_view/:"] != 1 || rep.Unknown[activity.UnsafeName+"/:"] != 1 {
		t.Errorf("unknown %v, want screen_view and one unsafe name", rep.Unknown)
	}
	if len(e.st.deltas) != 2 { // the track's user and company
		t.Errorf("aggregated %d deltas, want only the track's 2", len(e.st.deltas))
	}
	if len(runs.runs) != 1 {
		t.Fatalf("%d run records, want 1", len(runs.runs))
	}
	var reported []string
	for _, f := range runs.runs[0].Failures {
		reported = append(reported, f.Record+" "+f.Reason)
	}
	all := strings.Join(reported, "\n")
	if !strings.Contains(all, "screen_view/:") || !strings.Contains(all, "unclassified") || strings.Contains(all, "script") {
		t.Errorf("run record failures:\n%s\nwant screen_view reported as unclassified and no <script>", all)
	}
}

// TestEventWithAndWithoutIDIsOneEvent: the same event with the documented
// internal_event_id and without it is de-duplicated, within one batch and
// across batches through the ledger (issue 9.13).
func TestEventWithAndWithoutIDIsOneEvent(t *testing.T) {
	e := newEnv(t, testConfig())
	e.link("u1", "101")
	id := activity.DeriveEventID("NX-prod", "track", "x", "u1", "co1", t0)
	with := rec("track", id, "u1", "event_name", "x")
	without := rec("track", "", "u1", "event_name", "x", "internal_event_id", "")
	rep, err := e.f.Process(context.Background(), msgs(with, without))
	if err != nil {
		t.Fatal(err)
	}
	if len(e.sink.got) != 1 || rep.Counts[CountDuplicateInBatch] != 1 || rep.Counts[CountDerivedEventID] != 1 {
		t.Errorf("sent %d, counts %v: want one sent, one duplicate, one derived id", len(e.sink.got), rep.Counts)
	}
	rep, err = e.f.Process(context.Background(), msgs(without))
	if err != nil {
		t.Fatal(err)
	}
	if len(e.sink.got) != 1 || rep.Counts[CountDuplicateLedger] != 1 {
		t.Errorf("redelivery without the id: sent %d, counts %v, want it recognised by the ledger", len(e.sink.got), rep.Counts)
	}
}

// TestEnvelopeVariantsAreNotDeadLettered: metadata as a JSON string and
// inserted_at as epoch numbers are read, not dead-lettered (9.11, 9.14).
func TestEnvelopeVariantsAreNotDeadLettered(t *testing.T) {
	e := newEnv(t, testConfig())
	e.link("u1", "101")
	ms := t0.UnixMilli()
	rep, err := e.f.Process(context.Background(), msgs(
		`{"app_token":"NX-prod","event_type":"identify_user","user_id":"u1","inserted_at":"2026-11-27T10:00:00Z","internal_event_id":"i1","metadata":"{\"plan\":\"pro\"}"}`,
		`{"app_token":"NX-prod","event_type":"track","event_name":"x","user_id":"u1","inserted_at":`+itoa(ms)+`,"internal_event_id":"t1"}`,
		`{"app_token":"NX-prod","event_type":"track","event_name":"x","user_id":"u1","inserted_at":`+itoa(ms*1000+1)+`,"internal_event_id":"t2"}`,
	))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.DeadLettered) != 0 || rep.Counts[CountSent] != 2 || rep.Counts[CountIdentify] != 1 {
		t.Errorf("dead-lettered %v counts %v, want the identify merged and both tracks sent", rep.DeadLettered, rep.Counts)
	}
	if p := e.st.profile("production", store.KindUser, "u1"); p.Properties["plan"].Value != "pro" {
		t.Errorf("plan = %v, want pro (from the metadata string)", p.Properties["plan"])
	}
}

// TestUnsafeNamesStayOutOfDeadLetterReasons: producer-supplied property
// names reach the DLQ reason and the run record only when safe (13.7).
func TestUnsafeNamesStayOutOfDeadLetterReasons(t *testing.T) {
	runs := &runLog{}
	e := newEnv(t, testConfig(), func(o *Options) { o.Runs = runs })
	bodies := []string{}
	for _, name := range []string{"+15551234567", "<script>", "safe_name"} {
		bodies = append(bodies, `{"app_token":"NX-prod","event_type":"identify_user","user_id":"u1","inserted_at":"2026-11-27T10:00:00Z","internal_event_id":"i-`+name+`","metadata":{"`+name+`":{"nested":1}}}`)
	}
	rep, err := e.f.Process(context.Background(), msgs(bodies...))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.DeadLettered) != 3 {
		t.Fatalf("dead-lettered %v, want all 3", rep.DeadLettered)
	}
	var all []string
	for _, r := range e.dlq.reasons {
		all = append(all, r)
	}
	for _, f := range runs.runs[0].Failures {
		all = append(all, f.Field+" "+f.Reason)
	}
	text := strings.Join(all, "\n")
	if strings.Contains(text, "5551234567") || strings.Contains(text, "script") || !strings.Contains(text, "safe_name") {
		t.Errorf("reasons:\n%s\nwant no phone number or markup, and safe_name named", text)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
