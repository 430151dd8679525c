package wire

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/alert"
	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/notify"
)

// TestPollEmailsWhenDynamoDBUnreachable: DynamoDB hangs (a stalled proxy in
// front of DynamoDB Local) before the poll starts, so the run cannot take its
// lease. The poll still emails the admins through SES, naming DynamoDB as the
// cause and saying the email went out without the problem store; the next
// poll of the same process, DynamoDB still down, sends no second email.
func TestPollEmailsWhenDynamoDBUnreachable(t *testing.T) {
	t.Parallel()
	db, proxy := awstest.DynamoDBVia(t)
	w := newPollWorld(t, db)
	sender := awstest.UniqueName("pilotsync-unreachable") + "@example.com"
	n := notify.New(awstest.SES(t), w.st, sender, []string{"admin@example.com"})
	h := w.pollHandler(t, hubspottest.DefaultToken, handler.WithPollAlerts(alert.New(n, w.st, w.cfg.Userpilot.Environment)))
	proxy.Stall()

	const invocation = handler.PollReserve + 5*time.Second
	for i := range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), invocation)
		start := time.Now()
		res, err := h.Handle(ctx, handler.PollInput{Action: handler.PollActionPoll})
		took := time.Since(start)
		cancel()
		t.Logf("poll %d answered after %s: %q %v", i, took.Round(time.Millisecond), res.Status, err)
		if err == nil {
			t.Errorf("poll %d with DynamoDB unreachable: status %q without an error", i, res.Status)
		}
		if took >= invocation {
			t.Errorf("poll %d answered after %s of a %s invocation", i, took.Round(time.Millisecond), invocation)
		}
		mails := mailFrom(t, sender)
		if len(mails) != 1 {
			t.Fatalf("after poll %d: %d emails, want exactly one: %+v", i, len(mails), mails)
		}
		m := mails[0]
		if !strings.Contains(m.Subject, "DynamoDB") || !strings.Contains(m.Subject, "unreachable") {
			t.Errorf("subject %q does not name the cause (DynamoDB unreachable)", m.Subject)
		}
		if !strings.Contains(m.Body.Text, "could not reach its problem store") {
			t.Errorf("body does not say it was sent without the problem store:\n%s", m.Body.Text)
		}
	}
	if hs := len(w.hs.Requests()); hs != 0 {
		t.Errorf("%d HubSpot requests while the run could not start, want none", hs)
	}
}
