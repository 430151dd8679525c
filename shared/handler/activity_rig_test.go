package handler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/pilotsync/pilotsync/shared/alert"
	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/forward"
	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/identity/linker"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/store/storetest"
)

// activityEnabledAt is the enable time of every activity test: the sample
// events happen after it.
var activityEnabledAt = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// activityRig is the activity function's world: DynamoDB Local, moto's SQS
// (queue and dead-letter queue), the HubSpot sandbox, and the real handler.
type activityRig struct {
	t        testing.TB
	ctx      context.Context
	st       *store.Store
	hs       *hubspottest.Server
	client   *hubspot.Client
	sqs      *sqs.Client
	queueURL string
	dlqURL   string
	cfg      *config.Config
	fw       *forward.Forwarder
	h        *handler.Activity
}

type rigOptions struct {
	cfg        func(*config.Config)
	maxRetries int
	stepHook   func(ctx context.Context, step string) error
	// hubspot sets sandbox options (its logger is always discarded).
	hubspot hubspottest.Options
	// limits, when set, are the client's own pacing limits.
	limits *hubspot.Limits
	// notifier, when set, gets the handler's alerts (run records from the
	// rig's store, every batch checked).
	notifier alert.Notifier
	// db, when set, is the DynamoDB client of the store (e.g. through an
	// awstest.StallProxy); the table is created through DynamoDB Local.
	db *dynamodb.Client
	// margin is the forwarder's DeadlineMargin (default -1: none).
	margin time.Duration
}

func newActivityRig(t testing.TB, o rigOptions) *activityRig {
	t.Helper()
	ctx := awstest.Context(t)
	sq := awstest.SQS(t)
	r := &activityRig{t: t, ctx: ctx, st: storetest.FreshTable(t), sqs: sq}
	if o.db != nil {
		r.st = store.New(o.db, r.st.Table())
	}
	if o.margin == 0 {
		o.margin = -1
	}
	r.dlqURL = r.createQueue(awstest.UniqueName("activity-dlq"))
	r.queueURL = r.createQueue(awstest.UniqueName("activity"))
	hsOpts := o.hubspot
	hsOpts.Logger = slog.New(slog.DiscardHandler)
	r.hs = hubspottest.NewTestServer(t, hsOpts)
	clientOpts := []hubspot.Option{hubspot.WithBaseURL(r.hs.URL), hubspot.WithToken(r.hs.Token()),
		hubspot.WithMaxRetries(o.maxRetries), hubspot.WithLogger(slog.New(slog.DiscardHandler))}
	if o.limits != nil {
		clientOpts = append(clientOpts, hubspot.WithLimits(*o.limits))
	}
	client, err := hubspot.NewClient(clientOpts...)
	if err != nil {
		t.Fatal(err)
	}
	r.client = client
	r.cfg = config.Defaults()
	at := activityEnabledAt
	r.cfg.Activity.EnabledAt = &at
	r.cfg.Activity.Pages = []config.PageRule{{Name: "billing settings", Host: "app.example.com", Path: "/settings/*"}}
	r.cfg.Mapping.Users.Outbound = []config.PropertyMapping{{HubSpot: "userpilot_plan", Userpilot: "plan"}}
	if o.cfg != nil {
		o.cfg(r.cfg)
	}
	sink, err := forward.NewSink(r.cfg.Activity.Sink, r.cfg.Mapping.Users.HubSpotObject, r.cfg.Activity.EventNamePrefix,
		r.cfg.Activity.Targets(), client, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	lk, err := linker.New(linker.Options{Env: r.cfg.Userpilot.Environment, Store: r.st, HubSpot: client,
		Objects: linker.ObjectsFromConfig(r.cfg), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	r.fw, err = forward.New(forward.Options{
		Config: r.cfg,
		Store:  r.st,
		Linker: lk,
		Sink:   sink,
		DLQ:    forward.NewSQSDeadLetters(sq, r.dlqURL),
		Runs:   r.st,
		// The redelivery test's short contexts stand for a process killed
		// mid-call, not a Lambda deadline to plan for.
		DeadlineMargin: o.margin,
		Logger:         testLogger(),
		StepHook:       o.stepHook,
	})
	if err != nil {
		t.Fatal(err)
	}
	var alerts *alert.Alerter
	if o.notifier != nil {
		alerts = alert.New(o.notifier, r.st, "production", alert.WithActivityInterval(0), alert.WithLogger(testLogger()))
	}
	r.h = handler.NewActivity(r.fw, slog.New(slog.DiscardHandler), handler.WithActivityAlerts(alerts))
	return r
}

// testLogger discards logs unless PILOTSYNC_TEST_LOGS is set.
func testLogger() *slog.Logger {
	if os.Getenv("PILOTSYNC_TEST_LOGS") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func (r *activityRig) createQueue(name string) string {
	r.t.Helper()
	out, err := r.sqs.CreateQueue(r.ctx, &sqs.CreateQueueInput{QueueName: aws.String(name),
		Attributes: map[string]string{"VisibilityTimeout": "20"}})
	if err != nil {
		r.t.Fatal(err)
	}
	url := aws.ToString(out.QueueUrl)
	r.t.Cleanup(func() {
		_, _ = r.sqs.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(url)})
	})
	return url
}

// seedUsers adds n HubSpot contacts user<i>@example.com and returns their ids.
func (r *activityRig) seedUsers(n int) []string {
	return r.hs.SeedContacts(n, func(i int) hubspottest.SeedRecord {
		return hubspottest.SeedRecord{Properties: map[string]string{"email": fmt.Sprintf("user%d@example.com", i)}}
	})
}

// enqueue sends bodies to the main queue, 10 a call.
func (r *activityRig) enqueue(bodies []string) {
	r.t.Helper()
	for start := 0; start < len(bodies); start += 10 {
		var entries []sqstypes.SendMessageBatchRequestEntry
		for i, b := range bodies[start:min(start+10, len(bodies))] {
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(b)})
		}
		out, err := r.sqs.SendMessageBatch(r.ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(r.queueURL), Entries: entries})
		if err != nil {
			r.t.Fatal(err)
		}
		if len(out.Failed) > 0 {
			r.t.Fatalf("send message batch: %d failed", len(out.Failed))
		}
	}
}

// receive takes up to max visible messages off queue (the Lambda poller's part).
func (r *activityRig) receive(queue string, max int, attrs bool) []sqstypes.Message {
	r.t.Helper()
	var out []sqstypes.Message
	for len(out) < max {
		in := &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), MaxNumberOfMessages: int32(min(10, max-len(out))),
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}}
		if attrs {
			in.MessageAttributeNames = []string{"All"}
		}
		got, err := r.sqs.ReceiveMessage(r.ctx, in)
		if err != nil {
			r.t.Fatal(err)
		}
		if len(got.Messages) == 0 {
			break
		}
		out = append(out, got.Messages...)
	}
	return out
}

// toEvent is the SQS event the Lambda poller would build from msgs.
func toEvent(msgs []sqstypes.Message) events.SQSEvent {
	var ev events.SQSEvent
	for _, m := range msgs {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
			Body: aws.ToString(m.Body), Attributes: m.Attributes, EventSource: "aws:sqs", AWSRegion: awstest.Region})
	}
	return ev
}

// settle does what Lambda's poller does with a response: delete the messages
// not reported failed, and (to spare the test the visibility timeout) make the
// failed ones visible again at once.
func (r *activityRig) settle(msgs []sqstypes.Message, resp events.SQSEventResponse) {
	r.t.Helper()
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	var del []sqstypes.DeleteMessageBatchRequestEntry
	var vis []sqstypes.ChangeMessageVisibilityBatchRequestEntry
	for i, m := range msgs {
		if failed[aws.ToString(m.MessageId)] {
			vis = append(vis, sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0})
		} else {
			del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
	}
	for c := range slices.Chunk(del, 10) {
		if _, err := r.sqs.DeleteMessageBatch(r.ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(r.queueURL), Entries: c}); err != nil {
			r.t.Fatal(err)
		}
	}
	for c := range slices.Chunk(vis, 10) {
		if _, err := r.sqs.ChangeMessageVisibilityBatch(r.ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(r.queueURL), Entries: c}); err != nil {
			r.t.Fatal(err)
		}
	}
}

// queueDepth is visible + in-flight messages of queue.
func (r *activityRig) queueDepth(queue string) int {
	r.t.Helper()
	out, err := r.sqs.GetQueueAttributes(r.ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queue),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		r.t.Fatal(err)
	}
	n := 0
	for _, k := range []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible} {
		v, _ := strconv.Atoi(out.Attributes[string(k)])
		n += v
	}
	return n
}

// deadLetters reads the whole DLQ: source message id → reason.
func (r *activityRig) deadLetters() map[string]string {
	r.t.Helper()
	out := map[string]string{}
	for _, m := range r.receive(r.dlqURL, 10_000, true) {
		src := aws.ToString(m.MessageAttributes[forward.AttrSourceMessageID].StringValue)
		out[src] = aws.ToString(m.MessageAttributes[forward.AttrReason].StringValue)
	}
	return out
}

// loadEvent reads a sample from events/.
func loadEvent(t testing.TB, name string) events.SQSEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ev
}
