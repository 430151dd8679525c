package handler

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
)

// Activity handles SQS batches of Userpilot events.
type Activity struct{}

// NewActivity returns an activity handler.
func NewActivity() *Activity { return &Activity{} }

// Handle validates the batch and reports every message as failed, so nothing
// is lost while the forwarding engine is not wired yet: SQS redelivers them and
// the redrive policy eventually moves them to the dead-letter queue.
func (h *Activity) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for i, r := range ev.Records {
		if r.MessageId == "" {
			return events.SQSEventResponse{}, fmt.Errorf("activity: record %d has no messageId", i)
		}
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
	}
	return resp, nil
}
