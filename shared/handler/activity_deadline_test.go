package handler_test

import (
	"context"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/forward"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

// TestActivityStopsBeforeDeadlineWhenDynamoDBHangs: with DynamoDB hanging (a
// stalled proxy in front of DynamoDB Local) the activity handler answers 5 s
// before its deadline, every message reported for redelivery, instead of
// using all of its time: Lambda never cuts it off, and SQS redelivers.
func TestActivityStopsBeforeDeadlineWhenDynamoDBHangs(t *testing.T) {
	t.Parallel()
	db, proxy := awstest.DynamoDBVia(t)
	r := newActivityRig(t, rigOptions{db: db, margin: forward.DefaultDeadlineMargin})
	r.hs.AddRecords("contacts", []hubspottest.SeedRecord{{Properties: map[string]string{"email": "ada@example.com"}}})
	ev := loadEvent(t, "sqs-all.json")
	proxy.Stall()
	const invocation = 16 * time.Second // 5 s reserve stays under a third of it
	ctx, cancel := context.WithTimeout(r.ctx, invocation)
	defer cancel()
	start := time.Now()
	resp, err := r.h.Handle(ctx, ev)
	took := time.Since(start)
	t.Logf("answered after %s", took.Round(time.Millisecond))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if took > invocation-4*time.Second {
		t.Errorf("handler answered after %s of a %s invocation, want by %s (5 s before the deadline)", took.Round(time.Millisecond), invocation, invocation-5*time.Second)
	}
	if len(resp.BatchItemFailures) != len(ev.Records) {
		t.Errorf("failures = %d, want all %d messages redelivered", len(resp.BatchItemFailures), len(ev.Records))
	}
	if n := len(r.hs.Events()); n != 0 {
		t.Errorf("HubSpot got %d events while the ledger was unreachable, want 0", n)
	}
}
