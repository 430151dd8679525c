package redrive

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/forward"
)

func newQueue(t *testing.T, q *sqs.Client, prefix string) string {
	t.Helper()
	out, err := q.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(awstest.UniqueName(prefix))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = q.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}) })
	return aws.ToString(out.QueueUrl)
}

// deadLetter puts body on the DLQ as the forwarder does (reason "" as the
// redrive policy does: no attribute).
func deadLetter(t *testing.T, q *sqs.Client, dlq, body, reason string) {
	t.Helper()
	in := &sqs.SendMessageInput{QueueUrl: aws.String(dlq), MessageBody: aws.String(body)}
	if reason != "" {
		in.MessageAttributes = map[string]sqstypes.MessageAttributeValue{
			forward.AttrReason:          {DataType: aws.String("String"), StringValue: aws.String(reason)},
			forward.AttrSourceMessageID: {DataType: aws.String("String"), StringValue: aws.String("src-" + body)},
		}
	}
	if _, err := q.SendMessage(t.Context(), in); err != nil {
		t.Fatal(err)
	}
}

// drain receives every message of url (deleting them) and returns the bodies
// sorted, with the reason attribute of each when present.
func drain(t *testing.T, q *sqs.Client, url string) (bodies []string, attrs map[string]map[string]string) {
	t.Helper()
	attrs = map[string]map[string]string{}
	for {
		out, err := q.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
			WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			b := aws.ToString(m.Body)
			bodies = append(bodies, b)
			attrs[b] = map[string]string{}
			for k, v := range m.MessageAttributes {
				attrs[b][k] = aws.ToString(v.StringValue)
			}
			if _, err := q.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	slices.Sort(bodies)
	return bodies, attrs
}

func depth(t *testing.T, q *sqs.Client, url string) int {
	t.Helper()
	out, err := q.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
	return n
}

func TestDLQByReason(t *testing.T) {
	t.Parallel()
	q := awstest.SQS(t)
	ctx := t.Context()
	queue, dlq := newQueue(t, q, "rd-q"), newQueue(t, q, "rd-dlq")
	deadLetter(t, q, dlq, `{"n":1}`, "rejected: HubSpot rejected the event: unknown property")
	deadLetter(t, q, dlq, `{"n":2}`, "rejected: HubSpot rejected the event: too old")
	deadLetter(t, q, dlq, `{"n":3}`, "invalid_json: not JSON")
	deadLetter(t, q, dlq, `{"n":4}`, "")

	dry, err := DLQ(ctx, q, Options{QueueURL: queue, DLQURL: dlq, Reason: "rejected", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if dry.Seen != 4 || dry.Matched != 2 || dry.Moved != 0 || dry.ByReason["rejected"] != 2 {
		t.Errorf("dry run = %+v, want 4 seen, 2 matched, none moved", dry)
	}
	if d, qd := depth(t, q, dlq), depth(t, q, queue); d != 4 || qd != 0 {
		t.Errorf("after the dry run: DLQ %d visible, queue %d; want 4 and 0 (nothing changed, nothing hidden)", d, qd)
	}

	got, err := DLQ(ctx, q, Options{QueueURL: queue, DLQURL: dlq, Reason: "rejected"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Moved != 2 || got.Matched != 2 || got.Seen != 4 {
		t.Errorf("redrive = %+v, want 2 moved of 4", got)
	}
	bodies, attrs := drain(t, q, queue)
	if want := []string{`{"n":1}`, `{"n":2}`}; !slices.Equal(bodies, want) {
		t.Errorf("queue holds %v, want %v", bodies, want)
	}
	if a := attrs[`{"n":1}`]; a[forward.AttrReason] != "" || a[forward.AttrSourceMessageID] != `src-{"n":1}` {
		t.Errorf("redriven attributes %v: want the source id kept and the reason dropped", a)
	}
	if d := depth(t, q, dlq); d != 2 {
		t.Errorf("DLQ holds %d visible, want the 2 others", d)
	}

	got, err = DLQ(ctx, q, Options{QueueURL: queue, DLQURL: dlq, Reason: "max_receives"})
	if err != nil || got.Moved != 1 {
		t.Errorf("redrive max_receives = %+v, %v; want 1 moved", got, err)
	}
	got, err = DLQ(ctx, q, Options{QueueURL: queue, DLQURL: dlq})
	if err != nil || got.Moved != 1 {
		t.Errorf("redrive all = %+v, %v; want 1 moved", got, err)
	}
	bodies, _ = drain(t, q, queue)
	if want := []string{`{"n":3}`, `{"n":4}`}; !slices.Equal(bodies, want) {
		t.Errorf("queue holds %v, want %v", bodies, want)
	}
	if d := depth(t, q, dlq); d != 0 {
		t.Errorf("DLQ holds %d, want 0", d)
	}
}

// failingDelete is the SQS emulator with DeleteMessage failing after the
// first n deletes: a redrive stopped between send and delete.
type failingDelete struct {
	*sqs.Client
	n int
}

func (f *failingDelete) DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	if f.n == 0 {
		return nil, errors.New("connection reset")
	}
	f.n--
	return f.Client.DeleteMessage(ctx, in, opts...)
}

// TestDLQCrashLosesNothing: a redrive failing between sending a message to
// the queue and deleting it from the DLQ leaves it on both (the ledger makes
// the copy harmless), and every other message where it was.
func TestDLQCrashLosesNothing(t *testing.T) {
	q := awstest.SQS(t)
	ctx := t.Context()
	queue, dlq := newQueue(t, q, "rd-q"), newQueue(t, q, "rd-dlq")
	for _, b := range []string{"a", "b", "c"} {
		deadLetter(t, q, dlq, b, "rejected: x")
	}
	res, err := DLQ(ctx, &failingDelete{Client: q, n: 1}, Options{QueueURL: queue, DLQURL: dlq})
	if err == nil || res.Moved != 1 {
		t.Fatalf("redrive = %+v, %v; want an error after 1 moved", res, err)
	}
	onQueue, _ := drain(t, q, queue)
	inDLQ, _ := drain(t, q, dlq)
	if len(onQueue) != 2 {
		t.Errorf("queue holds %v, want the moved message and the one whose delete failed", onQueue)
	}
	all := slices.Compact(slices.Sorted(slices.Values(append(onQueue, inDLQ...))))
	if !slices.Equal(all, []string{"a", "b", "c"}) {
		t.Errorf("queue %v + DLQ %v: a message was lost", onQueue, inDLQ)
	}
	if len(inDLQ) != 2 {
		t.Errorf("DLQ holds %v, want 2 (the unsent one made visible again, the undeleted one)", inDLQ)
	}
}
