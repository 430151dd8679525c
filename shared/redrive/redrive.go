// Package redrive moves dead-lettered activity messages back to the activity
// queue after a fix, optionally only those dead-lettered for one reason.
//
// A message is sent to the queue before it is deleted from the dead-letter
// queue, so a crash between the two leaves it on both, never on neither; the
// forwarder's event ledger skips the events of a copy already delivered.
// Messages left alone (another reason, or a dry run) are made visible again
// at the end, so a dry run changes nothing.
package redrive

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/pilotsync/pilotsync/shared/forward"
	"github.com/pilotsync/pilotsync/shared/status"
	"github.com/pilotsync/pilotsync/shared/store"
)

// SQS limits (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html,
// API_ChangeMessageVisibilityBatch.html).
const (
	sqsMaxReceive     = 10
	sqsMaxChangeBatch = 10
)

// DefaultVisibility is how long, in seconds, a received dead-letter message
// stays hidden while a pass runs, so one pass sees each message once. Left
// alone messages are made visible again at the end; a crash leaves them
// hidden for this long at most.
const DefaultVisibility = 120

// SQS is the SQS calls a redrive makes.
type SQS interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

// Options says what to move.
type Options struct {
	QueueURL, DLQURL string
	// Reason selects messages whose reason matches (store.ReasonMatches:
	// equal or a prefix, e.g. "rejected"); "" selects all. Messages the
	// queue's redrive policy moved have the reason status.ReasonMaxReceives.
	Reason string
	// DryRun counts what would move and moves nothing.
	DryRun bool
	// Visibility overrides DefaultVisibility (seconds).
	Visibility int32
}

// Result says what a redrive did (or, dry, would do).
type Result struct {
	DryRun bool `json:"dry_run"`
	// Seen is every dead-letter message read; Matched those selected; Moved
	// those sent back and deleted from the dead-letter queue.
	Seen    int `json:"seen"`
	Matched int `json:"matched"`
	Moved   int `json:"moved"`
	// ByReason counts the selected messages by reason code.
	ByReason map[string]int `json:"by_reason"`
}

// DLQ moves the selected messages of o.DLQURL to o.QueueURL.
func DLQ(ctx context.Context, q SQS, o Options) (res Result, err error) {
	res = Result{DryRun: o.DryRun, ByReason: map[string]int{}}
	if o.DLQURL == "" || (o.QueueURL == "" && !o.DryRun) {
		return res, errors.New("redrive: the queue and dead-letter queue URLs are needed")
	}
	vis := o.Visibility
	if vis <= 0 {
		vis = DefaultVisibility
	}
	// keep holds, by message id, the latest receipt handle of each message
	// left alone (a message back after its visibility timeout has a new
	// handle; the old one no longer works).
	keep := map[string]*string{}
	leave := func(m sqstypes.Message) { keep[aws.ToString(m.MessageId)] = m.ReceiptHandle }
	defer func() {
		// Left-alone messages become visible again, also after an error.
		if rerr := restore(context.WithoutCancel(ctx), q, o.DLQURL, keep); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}()
	seen := map[string]bool{}
	for ctx.Err() == nil {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(o.DLQURL),
			MaxNumberOfMessages:         sqsMaxReceive,
			WaitTimeSeconds:             1,
			VisibilityTimeout:           vis,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		})
		if err != nil {
			return res, fmt.Errorf("redrive: receive from the dead-letter queue: %w", err)
		}
		fresh := 0
		for i, m := range out.Messages {
			id := aws.ToString(m.MessageId)
			if seen[id] {
				// Back after its visibility timeout: the pass is over.
				leave(m)
				continue
			}
			seen[id] = true
			fresh++
			res.Seen++
			reason := status.MessageReason(m)
			if !store.ReasonMatches(reason, o.Reason) {
				leave(m)
				continue
			}
			res.Matched++
			res.ByReason[status.ReasonCode(reason)]++
			if o.DryRun {
				leave(m)
				continue
			}
			if err := move(ctx, q, o, m); err != nil {
				// This message and the rest of the batch stay in the
				// dead-letter queue, visible again for the next redrive.
				for _, rest := range out.Messages[i:] {
					leave(rest)
				}
				return res, err
			}
			res.Moved++
		}
		if fresh == 0 {
			return res, nil
		}
	}
	return res, ctx.Err()
}

// move sends m to the queue, then deletes it from the dead-letter queue.
func move(ctx context.Context, q SQS, o Options, m sqstypes.Message) error {
	attrs := maps.Clone(m.MessageAttributes)
	delete(attrs, forward.AttrReason) // a fresh attempt; the forwarder sets a new one if it fails again
	_, err := q.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:          aws.String(o.QueueURL),
		MessageBody:       m.Body,
		MessageAttributes: attrs,
	})
	if err != nil {
		return fmt.Errorf("redrive: send message %s to the queue: %w", aws.ToString(m.MessageId), err)
	}
	_, err = q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(o.DLQURL), ReceiptHandle: m.ReceiptHandle})
	if err != nil {
		return fmt.Errorf("redrive: message %s is on the queue but still in the dead-letter queue (its events are delivered once): delete: %w",
			aws.ToString(m.MessageId), err)
	}
	return nil
}

// restore makes the messages of keep (id -> receipt handle) visible again.
func restore(ctx context.Context, q SQS, url string, keep map[string]*string) error {
	entries := make([]sqstypes.ChangeMessageVisibilityBatchRequestEntry, 0, len(keep))
	for _, id := range slices.Sorted(maps.Keys(keep)) {
		entries = append(entries, sqstypes.ChangeMessageVisibilityBatchRequestEntry{
			Id: aws.String(fmt.Sprint(len(entries))), ReceiptHandle: keep[id], VisibilityTimeout: 0,
		})
	}
	var errs []error
	for i := 0; i < len(entries); i += sqsMaxChangeBatch {
		chunk := entries[i:min(i+sqsMaxChangeBatch, len(entries))]
		out, err := q.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(url), Entries: chunk})
		if err != nil {
			errs = append(errs, fmt.Errorf("redrive: make %d messages visible again: %w", len(chunk), err))
			continue
		}
		if len(out.Failed) > 0 {
			errs = append(errs, fmt.Errorf("redrive: %d messages stay hidden until their visibility timeout: %s",
				len(out.Failed), aws.ToString(out.Failed[0].Message)))
		}
	}
	return errors.Join(errs...)
}
