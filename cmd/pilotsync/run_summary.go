package main

// Output of the local runner: result lines and the end-of-run summary.

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
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
}
