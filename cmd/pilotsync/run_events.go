package main

// Event-source emulation of the local runner: no emulator runs schedules or
// SQS event-source mappings, so the runner invokes the poll and daily handlers
// on their schedule and delivers queue batches to the activity handler.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/handler"
)

// loop runs cycles until ctx ends (Ctrl-C), or once.
func (r *runner) loop(ctx context.Context) error {
	every := r.opts.every
	if every <= 0 {
		every = r.deps.Config.Schedule.PollEvery.D()
	}
	if every <= 0 {
		every = config.DefaultPollEvery
	}
	dailyAt := r.deps.Config.Schedule.DailyAt
	if dailyAt == "" {
		dailyAt = config.DefaultDailyAt
	}
	nextDaily, err := nextDailyRun(time.Now(), dailyAt)
	if err != nil {
		return err
	}
	if r.opts.once || r.opts.dailyNow {
		nextDaily = time.Now()
	}
	if !r.opts.once {
		r.say("looping: poll every %s, queue every %s, daily job at %s UTC (next %s); Ctrl-C to stop",
			every, r.opts.queueEvery, dailyAt, nextDaily.UTC().Format(time.RFC3339))
	}
	nextPoll := time.Now()
	for n := 1; ; n++ {
		r.cycle = cycleStats{n: n}
		if err := r.drainQueue(ctx); err != nil && ctx.Err() == nil {
			r.say("activity: %v", err)
		}
		if now := time.Now(); !now.Before(nextPoll) {
			r.runPoll(ctx, now)
			nextPoll = now.Add(every)
		}
		if now := time.Now(); !now.Before(nextDaily) {
			r.runDaily(ctx, now)
			nextDaily = nextDaily.Add(24 * time.Hour)
			if nextDaily.Before(now) {
				nextDaily, _ = nextDailyRun(now, dailyAt)
			}
		}
		if r.opts.once {
			// Events the poll may have queued are picked up too.
			if err := r.drainQueue(ctx); err != nil && ctx.Err() == nil {
				r.say("activity: %v", err)
			}
			r.cycleSummary(ctx)
			r.summary(ctx)
			return nil
		}
		r.cycleSummary(ctx)
		select {
		case <-ctx.Done():
			r.say("stopped")
			r.summary(context.WithoutCancel(ctx))
			return nil
		case <-time.After(r.opts.queueEvery):
		}
	}
}

// nextDailyRun returns the first "HH:MM" UTC at or after now.
func nextDailyRun(now time.Time, hhmm string) (time.Time, error) {
	t, err := time.Parse("15:04", hhmm)
	if err != nil {
		return time.Time{}, fmt.Errorf("schedule.daily_at %q: want HH:MM", hhmm)
	}
	now = now.UTC()
	next := time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), 0, 0, time.UTC)
	if next.Before(now) {
		next = next.Add(24 * time.Hour)
	}
	return next, nil
}

func (r *runner) runPoll(ctx context.Context, now time.Time) {
	res, err := r.poll.Handle(ctx, handler.PollInput{Source: "aws.events", DetailType: "Scheduled Event", Time: now.UTC()})
	r.cycle.polled = true
	if err != nil {
		r.cycle.poll = "failed"
		r.say("poll: failed: %v", err)
		return
	}
	r.cycle.poll = res.Status
	if res.Inbound != nil {
		r.cycle.read, r.cycle.written = res.Inbound.Totals.Read, res.Inbound.Totals.Written
	}
	if res.Outbound != nil {
		r.cycle.pushed = res.Outbound.Totals.Sent
	}
	line := fmt.Sprintf("poll: %s", res.Status)
	if res.Message != "" {
		line += " (" + res.Message + ")"
	}
	if res.Inbound != nil {
		totals, _ := json.Marshal(res.Inbound.Totals)
		line += fmt.Sprintf(" in %dms, totals %s", res.Inbound.DurationMS, totals)
		if res.Inbound.Error != "" {
			line += "; error: " + res.Inbound.Error
		}
	}
	if len(res.Counts) > 0 {
		line += " counts " + formatCounts(res.Counts)
	}
	r.say("%s", line)
}

func (r *runner) runDaily(ctx context.Context, now time.Time) {
	res, err := r.measured.Handle(ctx, handler.MeasuredInput{Source: "aws.events", DetailType: "Scheduled Event", Time: now.UTC()})
	r.cycle.daily = true
	if err != nil {
		r.say("daily: failed: %v", err)
		return
	}
	line := "daily: " + res.Status
	if res.Message != "" {
		line += " (" + res.Message + ")"
	}
	r.say("%s counts %s", line, formatCounts(res.Counts))
}

// drainQueue delivers what is on the activity queue to the activity handler in
// batches, as the SQS event source mapping would, until the queue is empty.
func (r *runner) drainQueue(ctx context.Context) error {
	if r.activity == nil {
		return nil
	}
	var received, failed, deleted, batches int
	for ctx.Err() == nil {
		// Only the first receive waits for a message to arrive: after a
		// batch, the queue holds what it holds, and waiting for more would
		// add a second to every drain.
		ev, err := r.receiveBatch(ctx, batches == 0)
		if err != nil {
			return err
		}
		if len(ev.Records) == 0 {
			break
		}
		batches++
		received += len(ev.Records)
		resp, err := r.activity.Handle(ctx, ev)
		if err != nil {
			// Like Lambda: a handler error fails the whole batch; nothing is deleted.
			r.say("activity: batch of %d failed: %v (redelivered after %ds)", len(ev.Records), err, localVisibility)
			failed += len(ev.Records)
			continue
		}
		keep := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			keep[f.ItemIdentifier] = true
		}
		failed += len(keep)
		var del []sqstypes.DeleteMessageBatchRequestEntry
		for _, rec := range ev.Records {
			if !keep[rec.MessageId] {
				del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(rec.MessageId), ReceiptHandle: aws.String(rec.ReceiptHandle)})
			}
		}
		n, err := r.deleteMessages(ctx, del)
		deleted += n
		if err != nil {
			return err
		}
		if len(keep) == len(ev.Records) {
			// Everything failed: stop here rather than spin on messages that
			// are invisible until their visibility timeout ends.
			break
		}
	}
	r.cycle.received += received
	r.cycle.delivered += deleted
	r.cycle.failed += failed
	if received > 0 {
		dlq := "?"
		if r.dlqURL != "" {
			if v, err := r.queueAttr(ctx, r.dlqURL, sqstypes.QueueAttributeNameApproximateNumberOfMessages); err == nil {
				dlq = v
			}
		}
		r.say("activity: %d message(s) in %d batch(es): %d done and deleted, %d reported failed (retried after %ds; to the DLQ after %d receives); DLQ depth %s",
			received, batches, deleted, failed, localVisibility, localMaxReceive, dlq)
	}
	return nil
}

// receiveBatch receives up to activityBatch messages (10 per call, the SQS
// limit), waiting up to a second for the first when wait is set.
func (r *runner) receiveBatch(ctx context.Context, wait bool) (events.SQSEvent, error) {
	var ev events.SQSEvent
	for len(ev.Records) < activityBatch {
		waitSeconds := int32(0)
		if wait && len(ev.Records) == 0 {
			waitSeconds = 1
		}
		out, err := r.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(r.queueURL),
			MaxNumberOfMessages:         sqsMaxReceive,
			WaitTimeSeconds:             waitSeconds,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			return ev, fmt.Errorf("receive from %s: %w", r.queueURL, err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			ev.Records = append(ev.Records, events.SQSMessage{
				MessageId:      aws.ToString(m.MessageId),
				ReceiptHandle:  aws.ToString(m.ReceiptHandle),
				Body:           aws.ToString(m.Body),
				Md5OfBody:      aws.ToString(m.MD5OfBody),
				Attributes:     m.Attributes,
				EventSource:    "aws:sqs",
				EventSourceARN: r.queueARN,
				AWSRegion:      r.deps.AWS.Region,
			})
		}
	}
	return ev, nil
}

func (r *runner) deleteMessages(ctx context.Context, entries []sqstypes.DeleteMessageBatchRequestEntry) (int, error) {
	deleted := 0
	for chunk := range slices.Chunk(entries, sqsMaxDeleteBatch) {
		out, err := r.sqs.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(r.queueURL), Entries: chunk})
		if err != nil {
			return deleted, fmt.Errorf("delete from %s: %w", r.queueURL, err)
		}
		deleted += len(out.Successful)
		for _, f := range out.Failed {
			r.say("activity: could not delete message %s: %s", aws.ToString(f.Id), aws.ToString(f.Message))
		}
	}
	return deleted, nil
}
