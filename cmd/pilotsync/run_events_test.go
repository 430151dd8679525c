package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"

	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/wire"
)

// TestReceiveBatchWaitsOnlyWhenAsked: receiveBatch long-polls (one second)
// for the first message only when asked to, as a drain's first receive is;
// a drain's later receives take what the queue holds, so a drain no longer
// ends with a second's wait on an empty queue. Every queued message is
// received.
func TestReceiveBatchWaitsOnlyWhenAsked(t *testing.T) {
	ep := awstest.Endpoint(t, "SQS")
	var (
		mu    sync.Mutex
		waits []int32
	)
	record := middleware.InitializeMiddlewareFunc("recordWait", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		if rm, ok := in.Parameters.(*sqs.ReceiveMessageInput); ok {
			mu.Lock()
			waits = append(waits, rm.WaitTimeSeconds)
			mu.Unlock()
		}
		return next.HandleInitialize(ctx, in)
	})
	q := sqs.NewFromConfig(awstest.Config(), func(o *sqs.Options) {
		o.BaseEndpoint = aws.String(ep)
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error { return s.Initialize.Add(record, middleware.After) })
	})
	ctx := t.Context()
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(awstest.UniqueName("recv-q"))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = q.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}) })
	for i := range 5 {
		if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: out.QueueUrl, MessageBody: aws.String(fmt.Sprintf(`{"n":%d}`, i))}); err != nil {
			t.Fatal(err)
		}
	}
	r := &runner{sqs: q, queueURL: aws.ToString(out.QueueUrl), deps: &wire.Deps{AWS: awstest.Config()}}
	for _, tc := range []struct {
		wait      bool
		wantN     int
		wantWaits []int32
	}{
		{true, 5, []int32{1, 0}}, // the 5 messages, then an empty receive that does not wait
		{false, 0, []int32{0}},   // an empty queue, not waited on
	} {
		mu.Lock()
		waits = nil
		mu.Unlock()
		ev, err := r.receiveBatch(ctx, tc.wait)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		got := slices.Clone(waits)
		mu.Unlock()
		if len(ev.Records) != tc.wantN || !slices.Equal(got, tc.wantWaits) {
			t.Errorf("receiveBatch(wait %v): %d messages, WaitTimeSeconds per receive %v; want %d, %v", tc.wait, len(ev.Records), got, tc.wantN, tc.wantWaits)
		}
	}
}
