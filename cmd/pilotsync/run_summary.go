package main

// Output of the local runner: result lines and the end-of-run summary.

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/pilotsync/pilotsync/shared/wire"
)

func formatCounts(m map[string]int64) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// summary prints what the sandboxes hold after the run.
func (r *runner) summary(ctx context.Context) {
	if r.hubspot != nil {
		r.say("HubSpot sandbox: %d contacts, %d companies, %d custom events received, %d API calls",
			len(r.hubspot.Records("contacts")), len(r.hubspot.Records("companies")), len(r.hubspot.Events()), len(r.hubspot.Requests()))
	}
	if r.userpilot != nil {
		r.say("Userpilot sandbox: %d users and %d companies written", len(r.userpilot.Users()), len(r.userpilot.Companies()))
	}
	if v, err := r.queueAttr(ctx, r.queueURL, sqstypes.QueueAttributeNameApproximateNumberOfMessages); err == nil {
		r.say("queue: %s message(s) waiting", v)
	}
	for _, l := range r.directions() { // run_demo_both.go
		r.say("%s", l)
	}
	r.say("where to look: %s (runs, cursors, queue, problems); pilotsync preview --user ID shows one user", r.statusHint())
}

// cycleStats is what one cycle of the local runner did.
type cycleStats struct {
	n                           int
	polled, daily               bool
	poll                        string // the poll's status
	read, written               int64  // inbound totals
	pushed                      int64  // records the outbound push sent
	received, delivered, failed int    // activity messages
}

// cycleSummary prints one line for a cycle that did something, with where to
// look for more. Quiet cycles (nothing polled, received or posted) print
// nothing, so an idle runner does not scroll.
func (r *runner) cycleSummary(ctx context.Context) {
	c := r.cycle
	posted := r.posted.Swap(0)
	if !c.polled && !c.daily && c.received == 0 && posted == 0 {
		return
	}
	parts := []string{}
	if posted > 0 {
		parts = append(parts, fmt.Sprintf("%d event(s) posted", posted))
	}
	if c.polled {
		parts = append(parts, fmt.Sprintf("poll %s (read %d, written %d to Userpilot; %d sent to HubSpot)", c.poll, c.read, c.written, c.pushed))
	}
	if c.received > 0 {
		parts = append(parts, fmt.Sprintf("activity %d delivered, %d failed", c.delivered, c.failed))
	}
	if c.daily {
		parts = append(parts, "daily job ran")
	}
	if r.dlqURL != "" {
		if v, err := r.queueAttr(ctx, r.dlqURL, sqstypes.QueueAttributeNameApproximateNumberOfMessages); err == nil {
			parts = append(parts, "DLQ "+v)
		}
	}
	r.say("cycle %d: %s; details: %s", c.n, strings.Join(parts, ", "), r.statusHint())
}

// statusHint is the status command that shows this run's table and queues.
func (r *runner) statusHint() string {
	hint := "pilotsync status --local"
	if t := r.env[wire.EnvTable]; t != localTable {
		hint += " --table " + t
	}
	if !strings.HasSuffix(r.queueURL, "/"+localQueue) || !strings.HasSuffix(r.dlqURL, "/"+localDLQ) {
		hint += " --queue-url " + r.queueURL + " --dlq-url " + r.dlqURL
	}
	return hint
}
