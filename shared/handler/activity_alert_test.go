package handler

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pilotsync/pilotsync/shared/alert"
	"github.com/pilotsync/pilotsync/shared/forward"
	"github.com/pilotsync/pilotsync/shared/notify"
	"github.com/pilotsync/pilotsync/shared/store"
)

// engineFunc is an ActivityEngine from a function.
type engineFunc func(ctx context.Context, msgs []forward.Message) (*forward.Report, error)

func (f engineFunc) Process(ctx context.Context, msgs []forward.Message) (*forward.Report, error) {
	return f(ctx, msgs)
}

// keyNotifier records problem keys; err fails every call.
type keyNotifier struct {
	problems, resolved []string
	err                error
}

func (k *keyNotifier) Problem(_ context.Context, _ string, p notify.Problem) error {
	k.problems = append(k.problems, p.Key)
	return k.err
}

func (k *keyNotifier) Resolved(_ context.Context, _, key string) error {
	k.resolved = append(k.resolved, key)
	return k.err
}

type noRuns struct{}

func (noRuns) ListRuns(context.Context, string, string, int) ([]store.RunRecord, error) {
	return nil, nil
}

// TestActivityAlerts checks the handler reports a batch's problems, and that
// a failing notifier changes nothing about the batch's answer.
func TestActivityAlerts(t *testing.T) {
	engine := engineFunc(func(_ context.Context, msgs []forward.Message) (*forward.Report, error) {
		return &forward.Report{Failed: []string{msgs[1].ID}, DeadLettered: []string{msgs[0].ID},
			Counts: map[string]int64{forward.CountInvalidMessages: 1, forward.CountSent: 2, forward.CountFailedMessages: 1}}, nil
	})
	ev := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: "{"}, {MessageId: "m2", Body: "{}"}}}
	for _, notifyErr := range []error{nil, errors.New("ses down")} {
		n := &keyNotifier{err: notifyErr}
		h := NewActivity(engine, nil, WithActivityAlerts(alert.New(n, noRuns{}, "production")))
		resp, err := h.Handle(context.Background(), ev)
		if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m2" {
			t.Errorf("notify error %v: response %+v, %v, want m2 retried", notifyErr, resp, err)
		}
		if !slices.Equal(n.problems, []string{alert.KeyActivityInvalid}) {
			t.Errorf("notify error %v: problems %v, want %s", notifyErr, n.problems, alert.KeyActivityInvalid)
		}
	}
	// Without an alerter the handler works alike.
	if resp, err := NewActivity(engine, nil).Handle(context.Background(), ev); err != nil || len(resp.BatchItemFailures) != 1 {
		t.Errorf("no alerter: response %+v, %v", resp, err)
	}
}
