package handler

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pilotsync/pilotsync/shared/alert"
	"github.com/pilotsync/pilotsync/shared/deadline"
	"github.com/pilotsync/pilotsync/shared/forward"
	"github.com/pilotsync/pilotsync/shared/metrics"
)

// ActivityEngine is what the activity handler drives (shared/forward).
type ActivityEngine interface {
	Process(ctx context.Context, msgs []forward.Message) (*forward.Report, error)
}

var _ ActivityEngine = (*forward.Forwarder)(nil)

// Activity handles SQS batches of Userpilot events (the activity function,
// with ReportBatchItemFailures on its event source mapping).
type Activity struct {
	engine  ActivityEngine
	alerts  *alert.Alerter
	log     *slog.Logger
	metrics *metrics.Emitter // metrics.go
}

// ActivityOption configures an Activity handler.
type ActivityOption func(*Activity)

// WithActivityAlerts reports the problems of each batch (and their recovery)
// through a; nil (the default) reports nothing.
func WithActivityAlerts(a *alert.Alerter) ActivityOption { return func(h *Activity) { h.alerts = a } }

// NewActivity returns an activity handler over the engine.
func NewActivity(engine ActivityEngine, log *slog.Logger, opts ...ActivityOption) *Activity {
	if log == nil {
		log = slog.Default()
	}
	h := &Activity{engine: engine, log: log, metrics: metrics.Default()}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Handle forwards the batch and reports the messages to retry. Messages sent
// to the dead-letter queue count as processed, so SQS deletes them. When the
// engine stops short (deadline, abort), every message is reported failed:
// nothing is deleted and the ledger makes the redelivery harmless.
func (h *Activity) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	msgs := make([]forward.Message, len(ev.Records))
	for i, r := range ev.Records {
		if r.MessageId == "" {
			return events.SQSEventResponse{}, fmt.Errorf("activity: record %d has no messageId", i)
		}
		msgs[i] = forward.Message{ID: r.MessageId, Body: []byte(r.Body)}
	}
	if len(msgs) == 0 {
		return resp, nil
	}
	started := time.Now()
	work, cancel := deadline.Work(ctx, ActivityReserve) // deadlines.go
	defer cancel()
	rep, err := h.engine.Process(work, msgs)
	if err != nil {
		h.log.ErrorContext(ctx, "activity: batch stopped; every message will be redelivered", "messages", len(msgs), "err", err)
		for _, m := range msgs {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.ID})
		}
		return resp, nil
	}
	h.metrics.Activity(ctx, rep, time.Since(started))
	for _, id := range rep.Failed {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
	}
	// The sink's error names causes an admin must fix (no Enterprise, a
	// revoked token, the daily limit) at the first failing batch, rather
	// than as a lasting outage 15 minutes later.
	h.alerts.Activity(work, alert.ActivityRun{ // cleanup contexts end before the deadline
		Report: rep, ID: msgs[0].ID, Started: started, SinkErr: rep.SinkErr})
	return resp, nil
}
