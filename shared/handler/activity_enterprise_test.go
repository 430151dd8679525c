package handler_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pilotsync/pilotsync/shared/alert"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/notify"
)

// problemLog records the problems and recoveries the alerter reports.
type problemLog struct {
	mu       sync.Mutex
	problems []notify.Problem
	resolved []string
}

func (l *problemLog) Problem(_ context.Context, _ string, p notify.Problem) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.problems = append(l.problems, p)
	return nil
}

func (l *problemLog) Resolved(_ context.Context, _, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.resolved = append(l.resolved, key)
	return nil
}

func (l *problemLog) keys() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, p := range l.problems {
		out = append(out, p.Key)
	}
	return out
}

// TestActivityEnterpriseRequiredAlertsAtOnce runs the real handler, forwarder
// and custom events sink against a HubSpot account without Enterprise: the
// first batch that fails raises "Enterprise required" by name (from the
// sink's typed error), not a generic outage 15 minutes later, and the
// events are kept for retry.
func TestActivityEnterpriseRequiredAlertsAtOnce(t *testing.T) {
	log := &problemLog{}
	r := newActivityRig(t, rigOptions{hubspot: hubspottest.Options{CustomEventsForbidden: true}, notifier: log})
	r.hs.AddRecords("contacts", []hubspottest.SeedRecord{{Properties: map[string]string{"email": "ada@example.com"}}})

	// An identify links the user and sends nothing: no problem yet.
	if resp, err := r.h.Handle(r.ctx, loadEvent(t, "sqs-identify.json")); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("identify: failures %v, err %v", resp.BatchItemFailures, err)
	}
	if got := log.keys(); len(got) != 0 {
		t.Fatalf("after identify: got problems %v, want none", got)
	}

	ev := loadEvent(t, "sqs-tracked-event.json")
	resp, err := r.h.Handle(r.ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[0].MessageId {
		t.Errorf("got failures %v, want the event's message retried", resp.BatchItemFailures)
	}
	want := alert.ActivityKey(alert.CauseEnterpriseRequired)
	if got := log.keys(); !slices.Equal(got, []string{want}) {
		t.Fatalf("after the first failing batch: got problems %v, want [%s]", got, want)
	}
	if p := log.problems[0]; !strings.Contains(p.Title, "Enterprise") || !strings.Contains(p.Detail, "activity.sink") {
		t.Errorf("got problem %q: %q, want it to name Enterprise and the activity.sink way out", p.Title, p.Detail)
	}
	if len(r.hs.Events()) != 0 {
		t.Errorf("got %d events in HubSpot, want 0", len(r.hs.Events()))
	}
	if slices.Contains(log.resolved, want) {
		t.Errorf("resolved %v, want %s left open", log.resolved, want)
	}
}
