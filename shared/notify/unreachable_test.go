package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/notify"
	"github.com/pilotsync/pilotsync/shared/store"
)

// TestProblemEmailedWhenStoreUnreachable: with DynamoDB hanging (a stalled
// proxy in front of DynamoDB Local) the problem email still reaches SES, once
// per process however often it is reported, says it was sent without the
// problem store, and leaves the invocation time to answer. Once the store is
// back, the dedupe works through it again.
func TestProblemEmailedWhenStoreUnreachable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, proxy := awstest.DynamoDBVia(t)
	_, table := awstest.Table(t, store.CreateTable)
	st := store.New(db, table)
	clk := &clock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	n, sender, _ := newNotifier(t, st, clk)
	p := notify.Problem{Key: "inbound/users/outage", Title: "sync keeps failing", Detail: "DynamoDB does not answer"}

	proxy.Stall()
	for i := range 3 {
		ictx, cancel := context.WithTimeout(ctx, 8*time.Second)
		start := time.Now()
		err := n.Problem(ictx, "production", p)
		cancel()
		if err != nil {
			t.Fatalf("report %d with the store down: %v, want the email sent anyway", i+1, err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("report %d took %s with the store down, want the store call cut short", i+1, took)
		}
	}
	mails := mailFrom(t, sender)
	if len(mails) != 1 {
		t.Fatalf("mails with the store down = %d, want 1 (once per process): %+v", len(mails), mails)
	}
	if !strings.Contains(mails[0].Body.Text, "could not reach its problem store") || !strings.Contains(mails[0].Subject, "sync keeps failing") {
		t.Errorf("mail %q / %q does not say it was sent without the problem store", mails[0].Subject, mails[0].Body.Text)
	}

	proxy.Resume()
	if err := n.Problem(ctx, "production", p); err != nil {
		t.Fatalf("report with the store back: %v", err)
	}
	if err := n.Problem(ctx, "production", p); err != nil {
		t.Fatalf("second report with the store back: %v", err)
	}
	if got := len(mailFrom(t, sender)); got != 2 {
		t.Errorf("mails after the store is back = %d, want 2 (the store records the problem once, then dedupes)", got)
	}
}
