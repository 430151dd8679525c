package forward

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/pilotsync/pilotsync/shared/identity"
)

// Message attributes set on dead-lettered messages.
const (
	AttrReason          = "pilotsync_reason"
	AttrSourceMessageID = "pilotsync_source_message_id"
)

// SQSSender is the one SQS call the dead-letter queue uses.
type SQSSender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// SQSDeadLetters sends messages to an SQS dead-letter queue with their reason
// as a message attribute.
type SQSDeadLetters struct {
	client SQSSender
	url    string
}

var _ DeadLetterQueue = (*SQSDeadLetters)(nil)

// NewSQSDeadLetters returns a DeadLetterQueue writing to the queue at url
// (PILOTSYNC_DLQ_URL).
func NewSQSDeadLetters(client SQSSender, url string) *SQSDeadLetters {
	return &SQSDeadLetters{client: client, url: url}
}

// DeadLetter sends msg's body unchanged (a redrive after a fix replays it;
// the ledger skips what was already delivered) with the reason and source id.
func (d *SQSDeadLetters) DeadLetter(ctx context.Context, msg Message, reason string) error {
	body := string(msg.Body)
	if body == "" {
		body = "(empty)" // SQS refuses empty bodies
	}
	_, err := d.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(d.url),
		MessageBody: aws.String(body),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			AttrReason:          {DataType: aws.String("String"), StringValue: aws.String(reason)},
			AttrSourceMessageID: {DataType: aws.String("String"), StringValue: aws.String(msg.ID)},
		},
	})
	if err != nil {
		return fmt.Errorf("forward: dead-letter message %s: %w", msg.ID, err)
	}
	return nil
}

// hashID is a short hash of an identity for logs (ids may be emails).
func hashID(v string) string { return identity.Redact(v) }
