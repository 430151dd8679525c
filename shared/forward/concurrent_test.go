package forward

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/pilotsync/pilotsync/shared/cause"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/store"
)

// TestConcurrentRedeliveryIsCounted: two invocations hold the same message at
// once. The second checks the ledger, sends and records while the first is
// between its send and its ledger record: both sent the event, the sink (as
// HubSpot does by event id) kept one, and the first batch's counts, which are
// its run record's, say it happened.
func TestConcurrentRedeliveryIsCounted(t *testing.T) {
	cfg := testConfig()
	body := rec("track", "a", "u1", "event_name", "exported")
	var second *Report
	var first *env
	first = newEnv(t, cfg, func(o *Options) {
		once := false
		o.StepHook = func(ctx context.Context, step string) error {
			if step != StepRecord || once {
				return nil
			}
			once = true
			// The other invocation, on the same table and HubSpot.
			o2 := Options{Config: cfg, Store: first.st, Linker: newFakeLinker(t, cfg, first.st, first.finder), Sink: first.sink, DLQ: first.dlq, Now: o.Now, Logger: o.Logger}
			f2, err := New(o2)
			if err != nil {
				return err
			}
			second, err = f2.Process(ctx, msgs(body))
			return err
		}
	})
	first.link("u1", "101")
	rep, err := first.f.Process(context.Background(), msgs(body))
	if err != nil {
		t.Fatal(err)
	}
	if second == nil || second.Counts[CountSent] != 1 || second.Counts[CountConcurrentDelivery] != 0 {
		t.Fatalf("second invocation: %+v, want it sent the event without seeing a concurrent delivery", second)
	}
	if rep.Counts[CountSent] != 1 || rep.Counts[CountConcurrentDelivery] != 1 {
		t.Errorf("first invocation counts %v, want sent 1 and %s 1", rep.Counts, CountConcurrentDelivery)
	}
	if first.sink.repeats != 1 || len(first.sink.got) != 1 {
		t.Errorf("sink got %d events with %d repeats, want 1 kept and 1 repeat dropped by id", len(first.sink.got), first.sink.repeats)
	}
}

type runsCapture struct{ runs []store.RunRecord }

func (r *runsCapture) PutRun(_ context.Context, rec store.RunRecord) error {
	r.runs = append(r.runs, rec)
	return nil
}

// TestRunRecordCarriesSinkCause: the batch's run record names the cause of
// its failing HubSpot call from the error value (a revoked token here), so
// nothing reading run records has to match error text.
func TestRunRecordCarriesSinkCause(t *testing.T) {
	cfg := testConfig()
	cfg.Mapping.Users.Match.Userpilot = "user_id"
	runs := &runsCapture{}
	e := newEnv(t, cfg, func(o *Options) { o.Runs = runs })
	e.finder.err = fmt.Errorf("hubspot: batch read 1 contacts: %w", &hubspot.APIError{Status: http.StatusUnauthorized, Endpoint: "batch_read"})
	if _, err := e.f.Process(context.Background(), msgs(rec("track", "a", "u9", "event_name", "x"))); err != nil {
		t.Fatal(err)
	}
	if len(runs.runs) != 1 || runs.runs[0].Causes["sink"] != string(cause.HubSpotAuth) {
		t.Fatalf("run records %+v, want one with causes sink: %s", runs.runs, cause.HubSpotAuth)
	}
}
