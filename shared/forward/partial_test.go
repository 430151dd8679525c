package forward

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/store"
)

// TestTimelineItemErrorsAgainstSandbox: HubSpot answers a timeline or app event batch with
// one event listed in errors[]: that event is not delivered, so its message is re-checked and
// dead-lettered with HubSpot's reason, while the rest of the batch counts as sent.
func TestTimelineItemErrorsAgainstSandbox(t *testing.T) {
	for _, sinkName := range []string{"timeline", "app_events"} {
		t.Run(sinkName, func(t *testing.T) {
			hs := hubspottest.NewTestServer(t, hubspottest.Options{Logger: slog.New(slog.DiscardHandler), AppEventsAllowStaticToken: true, TimelineItemErrors: true})
			ids := hs.SeedContacts(1, nil)
			c, err := hubspot.NewClient(hubspot.WithBaseURL(hs.URL), hubspot.WithToken(hs.Token()), hubspot.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				t.Fatal(err)
			}
			sink, err := NewSink(sinkName, "contacts", "", map[string]string{"tracked_events_occurred": "ae_tracked"}, c, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			e := newEnv(t, testConfig(), func(o *Options) { o.Sink = sink })
			e.link("u1", ids[0])
			// u2's link points at a record HubSpot does not have, and a lookup by email finds
			// the same id: HubSpot refuses the event itself.
			e.st.seed(&store.Profile{Env: "production", Kind: store.KindUser, ID: "u2",
				HubSpotID: "999999", HubSpotObject: "contacts", MatchValue: "gone@example.com", LinkMatch: "gone@example.com"})
			e.finder.ids["gone@example.com"] = "999999"
			rep, err := e.f.Process(context.Background(), msgs(rec("track", "a", "u1", "event_name", "x"), rec("track", "b", "u2", "event_name", "y"),
				rec("track", "c", "u1", "event_name", "z")))
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Failed) != 0 || !slices.Equal(rep.DeadLettered, []string{"m1"}) {
				t.Errorf("failed %v, dead-lettered %v; want none and m1", rep.Failed, rep.DeadLettered)
			}
			if r := e.dlq.reasons["m1"]; !strings.Contains(r, "VALIDATION_ERROR") || !strings.Contains(r, "999999") {
				t.Errorf("dead-letter reason %q, want HubSpot's reason", r)
			}
			if rep.Counts[CountSent] != 2 {
				t.Errorf("counts %v, want 2 sent", rep.Counts)
			}
			kept := hs.TimelineEvents()
			if sinkName == "app_events" {
				kept = hs.AppEvents()
			}
			if len(kept) != 2 {
				t.Errorf("HubSpot kept %d events, want 2", len(kept))
			}
		})
	}
}

// partialSink fails the listed event ids of every Send with a retryable per-item error.
type partialSink struct {
	*fakeSink
	retry map[string]bool
}

func (s *partialSink) Send(ctx context.Context, items []Item) error {
	var ok []Item
	pe := &PartialError{}
	for i, it := range items {
		if s.retry[it.EventID] {
			pe.Failures = append(pe.Failures, ItemFailure{Index: i, Reason: "INTERNAL: try again"})
			continue
		}
		ok = append(ok, it)
	}
	if err := s.fakeSink.Send(ctx, ok); err != nil {
		return err
	}
	if len(pe.Failures) > 0 {
		return pe
	}
	return nil
}

// TestPartialRetryableFailure: an item a sink reports as not delivered (retryable) leaves its
// message for a retry; the other items are delivered and their messages done.
func TestPartialRetryableFailure(t *testing.T) {
	ps := &partialSink{fakeSink: newFakeSink(), retry: map[string]bool{"b": true}}
	e := newEnv(t, testConfig(), func(o *Options) { o.Sink = ps })
	e.link("u1", "101")
	rep, err := e.f.Process(context.Background(), msgs(rec("track", "a", "u1", "event_name", "x"), rec("track", "b", "u1", "event_name", "y"),
		rec("track", "c", "u1", "event_name", "z")))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Failed, []string{"m1"}) || len(rep.DeadLettered) != 0 {
		t.Errorf("failed %v, dead-lettered %v; want m1 retried and none dead-lettered", rep.Failed, rep.DeadLettered)
	}
	if len(ps.got) != 2 || ps.calls != 1 || rep.Counts[CountSendFailed] != 1 {
		t.Errorf("sink kept %d in %d calls, counts %v; want 2 in 1 call and 1 send_failed", len(ps.got), ps.calls, rep.Counts)
	}
	if _, ok := rep.SinkErr.(*PartialError); !ok {
		t.Errorf("sink error %v, want the *PartialError", rep.SinkErr)
	}
}

// TestDuplicateUUIDAgainstSandbox: a batch resent after a crash before the ledger write holds
// an event HubSpot already has. HubSpot's answer to a repeated uuid is undocumented: either
// it drops the repeat silently, or it fails the whole batch with 400. Either way the new
// events of the batch are delivered and no new event is dead-lettered.
func TestDuplicateUUIDAgainstSandbox(t *testing.T) {
	for _, mode := range []string{hubspottest.DuplicateDrop, hubspottest.DuplicateReject400} {
		t.Run("mode="+mode, func(t *testing.T) {
			hs := hubspottest.NewTestServer(t, hubspottest.Options{Logger: slog.New(slog.DiscardHandler), DuplicateEventUUID: mode})
			ids := hs.SeedContacts(1, nil)
			c, err := hubspot.NewClient(hubspot.WithBaseURL(hs.URL), hubspot.WithToken(hs.Token()), hubspot.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				t.Fatal(err)
			}
			sink := NewCustomEvents(c, "contacts", "", slog.New(slog.DiscardHandler))
			e := newEnv(t, testConfig(), func(o *Options) { o.Sink = sink })
			e.st.seed(&store.Profile{Env: "production", Kind: store.KindUser, ID: "u1", MatchValue: "ann@example.com",
				HubSpotID: ids[0], HubSpotObject: "contacts", LinkMatch: "ann@example.com"})
			e.finder.ids["ann@example.com"] = ids[0]
			ctx := context.Background()
			if rep, err := e.f.Process(ctx, msgs(rec("track", "a", "u1", "event_name", "x"))); err != nil || len(rep.Failed)+len(rep.DeadLettered) != 0 {
				t.Fatalf("first delivery: %v %+v", err, rep)
			}
			e.st.ClearLedger() // the ledger write was lost: "a" is sent again
			batch := msgs(rec("track", "a", "u1", "event_name", "x"), rec("track", "b", "u1", "event_name", "y"),
				rec("track", "c", "u1", "event_name", "z"), rec("track", "d", "u1", "event_name", "w"))
			rep, err := e.f.Process(ctx, batch)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Failed) != 0 {
				t.Errorf("failed %v, want none", rep.Failed)
			}
			// Only the repeat may be dead-lettered (when HubSpot refuses it with 400): its
			// event is already in HubSpot, so nothing is lost.
			for _, m := range rep.DeadLettered {
				if m != "m0" {
					t.Errorf("message %s dead-lettered (%s), want only the repeat m0 at most", m, e.dlq.reasons[m])
				}
			}
			if mode == hubspottest.DuplicateReject400 && !slices.Equal(rep.DeadLettered, []string{"m0"}) {
				t.Errorf("dead-lettered %v, want the refused repeat m0", rep.DeadLettered)
			}
			if got, want := hs.StatusCount(400) > 0, mode == hubspottest.DuplicateReject400; got != want {
				t.Errorf("HubSpot answered 400s: %v, want %v", got, want)
			}
			seen := map[string]int{}
			for _, ev := range hs.Events() {
				seen[ev.UUID]++
			}
			if len(hs.Events()) != 4 || len(seen) != 4 {
				t.Errorf("HubSpot holds %d events (%d uuids), want each of the 4 once", len(hs.Events()), len(seen))
			}
		})
	}
}
