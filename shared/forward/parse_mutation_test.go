package forward

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/pilotsync/pilotsync/shared/activity"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/internal/logtest"
)

// TestDuplicateInsideAMessageKeepsTheRest: an event repeated inside one
// message and again in another is sent once, and the events after the
// repeat in the same message are still sent.
func TestDuplicateInsideAMessageKeepsTheRest(t *testing.T) {
	e := newEnv(t, testConfig())
	e.link("u1", "101")
	one := rec("track", "e1", "u1", "event_name", "x")
	rep, err := e.f.Process(t.Context(), msgs(one+"\n"+one+"\n"+rec("track", "e2", "u1", "event_name", "x"),
		rec("track", "e3", "u1", "event_name", "x")+"\n"+one))
	if err != nil {
		t.Fatal(err)
	}
	if len(e.sink.got) != 3 || rep.Counts[CountDuplicateInBatch] != 2 || rep.Counts[CountSent] != 3 || len(rep.Failed) != 0 {
		t.Errorf("sent %v, counts %v, failed %v; want e1, e2, e3 once each and 2 duplicates", e.sink.order, rep.Counts, rep.Failed)
	}
}

// TestPartialFailureOfTheFirstItem: HubSpot's per-item failures are read
// by index from the first item on: a retryable failure of item 0 retries
// its message; a permanent one is re-checked and dead-lettered with its
// reason, and (not being a sink failure) leaves no sink error.
func TestPartialFailureOfTheFirstItem(t *testing.T) {
	for _, permanent := range []bool{false, true} {
		t.Run(fmt.Sprint("permanent=", permanent), func(t *testing.T) {
			s := &indexSink{fakeSink: newFakeSink(), fail: ItemFailure{Index: 0, Reason: "VALIDATION: bad event", Permanent: permanent}}
			e := newEnv(t, testConfig(), func(o *Options) { o.Sink = s })
			e.link("u1", "101")
			rep, err := e.f.Process(t.Context(), msgs(rec("track", "a", "u1", "event_name", "x"), rec("track", "b", "u1", "event_name", "y")))
			if err != nil {
				t.Fatal(err)
			}
			if len(s.got) != 1 || rep.Counts[CountSent] != 1 {
				t.Errorf("sink kept %v, counts %v; want b only", s.order, rep.Counts)
			}
			if !permanent && (strings.Join(rep.Failed, ",") != "m0" || len(rep.DeadLettered) != 0 || rep.SinkErr == nil) {
				t.Errorf("failed %v dead-lettered %v sink error %v; want m0 retried and the sink error kept", rep.Failed, rep.DeadLettered, rep.SinkErr)
			}
			if permanent && (strings.Join(rep.DeadLettered, ",") != "m0" || len(rep.Failed) != 0 || rep.SinkErr != nil ||
				!strings.Contains(e.dlq.reasons["m0"], "VALIDATION: bad event")) {
				t.Errorf("failed %v dead-lettered %v (%q) sink error %v; want m0 dead-lettered with HubSpot's reason and no sink error",
					rep.Failed, rep.DeadLettered, e.dlq.reasons["m0"], rep.SinkErr)
			}
		})
	}
}

// indexSink fails item fail.Index of every send that has it.
type indexSink struct {
	*fakeSink
	fail ItemFailure
}

func (s *indexSink) Send(ctx context.Context, items []Item) error {
	if s.fail.Index >= len(items) {
		return s.fakeSink.Send(ctx, items)
	}
	rest := append(append([]Item{}, items[:s.fail.Index]...), items[s.fail.Index+1:]...)
	if err := s.fakeSink.Send(ctx, rest); err != nil {
		return err
	}
	return &PartialError{Failures: []ItemFailure{s.fail}}
}

// TestPrepareUsesListedDefinitions: the account's definitions are listed
// once and each kept, also after one made on another object; every missing
// name is created, whatever the order the names come in; the one on another
// object is neither used nor created again.
func TestPrepareUsesListedDefinitions(t *testing.T) {
	c, hs := sandboxClient(t)
	ctx := t.Context()
	if _, err := c.CreateEventDefinition(ctx, hubspotDef("userpilot_flow_dismissed", "COMPANY")); err != nil {
		t.Fatal(err)
	}
	seen, err := c.CreateEventDefinition(ctx, hubspotDef("userpilot_flow_seen", "CONTACT"))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]activity.Pair{
		"userpilot_flow_seen":      {Category: activity.Flows, Status: "seen"},
		"userpilot_flow_dismissed": {Category: activity.Flows, Status: "dismissed"},
	}
	for i := range 10 {
		st := fmt.Sprint("step", i)
		names["userpilot_flow_"+st] = activity.Pair{Category: activity.Flows, Status: st}
	}
	got, err := NewCustomEvents(c, "contacts", "", nil).Prepare(ctx, names)
	if err != nil {
		t.Fatal(err)
	}
	if got["userpilot_flow_seen"] != seen.FullyQualifiedName {
		t.Errorf("seen -> %q, want the listed %q", got["userpilot_flow_seen"], seen.FullyQualifiedName)
	}
	if _, ok := got["userpilot_flow_dismissed"]; ok || len(got) != 11 {
		t.Errorf("got %d targets %v, want the 10 new ones and seen, not dismissed", len(got), got)
	}
	if n := len(hs.EventDefinitions()); n != 12 {
		t.Errorf("HubSpot holds %d definitions, want 12 (2 listed, 10 created)", n)
	}
}

// TestCleanBatchLogsNoWarning: a batch where everything is delivered logs
// no warning (operators alarm on them): no "delivered by two invocations"
// when none was, nor a failed run record write when it was stored.
func TestCleanBatchLogsNoWarning(t *testing.T) {
	w := &logtest.Recorder{Min: slog.LevelWarn}
	runs := &runLog{}
	e := newEnv(t, testConfig(), func(o *Options) { o.Logger, o.Runs = slog.New(w), runs })
	e.link("u1", "101")
	rep, err := e.f.Process(t.Context(), msgs(rec("track", "a", "u1", "event_name", "x"), rec("session_start", "s", "u1"),
		rec("identify_user", "i", "u1", "metadata", `{"plan":"pro"}`)))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Counts[CountSent] != 1 || len(w.Messages()) != 0 || len(runs.runs) != 1 {
		t.Errorf("counts %v, warnings %q; want a clean batch without warnings", rep.Counts, w.Messages())
	}
}

func hubspotDef(name, object string) hubspot.EventDefinition {
	return hubspot.EventDefinition{Name: name, Label: "Listed " + name, PrimaryObject: object}
}

// TestRunRecordNamesTheInvalidRecord: the run record's failures name the
// record of a message that was invalid (record 0 as much as any), and a
// problem of the whole message names no record.
func TestRunRecordNamesTheInvalidRecord(t *testing.T) {
	runs := &runLog{}
	e := newEnv(t, testConfig(), func(o *Options) { o.Runs = runs })
	if _, err := e.f.Process(t.Context(), msgs(`[{"event_type":"track"},`+rec("track", "ok", "u1", "event_name", "x")+`]`, `nope`)); err != nil {
		t.Fatal(err)
	}
	fields := map[string][]string{}
	for _, f := range runs.runs[0].Failures {
		fields[f.Record] = append(fields[f.Record], f.Field)
	}
	for _, f := range fields["m0"] {
		if !strings.HasPrefix(f, "record 0") {
			t.Errorf("m0 failure field %q, want it to name record 0", f)
		}
	}
	if len(fields["m0"]) == 0 || len(fields["m1"]) != 1 || strings.Contains(fields["m1"][0], "record") {
		t.Errorf("failures %v, want m0's naming record 0 and m1's naming none", fields)
	}
}
