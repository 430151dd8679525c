package wire

// One constructor per Lambda function, returning the ready handler. The
// functions/<name>/main.go binaries call Poll, Activity and DailyMeasured
// (Build, then the New* below); the local runner (cmd/pilotsync run) builds
// one Deps and calls NewPoll, NewActivity and NewDailyMeasured on it, so what
// runs locally is assembled exactly as what runs in Lambda. Options passed to
// the New* constructors are applied after the defaults and override them.

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pilotsync/pilotsync/shared/forward"
	"github.com/pilotsync/pilotsync/shared/handler"
)

// Poll builds the poll function's handler from the environment (Build, then
// NewPoll).
func Poll(ctx context.Context, opts ...Option) (*handler.Poll, error) {
	d, err := Build(ctx, opts...)
	if err != nil {
		return nil, err
	}
	return NewPoll(d)
}

// Activity builds the activity function's handler from the environment
// (Build without Userpilot, then NewActivity).
func Activity(ctx context.Context, opts ...Option) (*handler.Activity, error) {
	d, err := Build(ctx, append(opts, WithoutUserpilot())...)
	if err != nil {
		return nil, err
	}
	return NewActivity(d)
}

// DailyMeasured builds the daily-measured function's handler from the
// environment (Build without Userpilot, then NewDailyMeasured).
func DailyMeasured(ctx context.Context, opts ...Option) (*handler.Measured, error) {
	d, err := Build(ctx, append(opts, WithoutUserpilot())...)
	if err != nil {
		return nil, err
	}
	return NewDailyMeasured(d)
}

// NewActivity builds the activity handler from d: the forwarder the config
// describes (forward.NewFromDeps) with the dead-letter queue, and the alerts.
// The forwarder never writes to Userpilot, even when d has a Userpilot
// client: the activity function's role may not read its secret (scope.go),
// and the local runner must behave as the function does.
func NewActivity(d *Deps, opts ...handler.ActivityOption) (*handler.Activity, error) {
	d = d.withLogger()
	if d.DLQURL == "" {
		d.Log.Warn("activity: " + EnvDLQURL + " is not set: invalid messages are left to the queue's redrive policy")
	}
	fwd, err := forward.NewFromDeps(forward.Deps{Config: d.Config, Store: d.Store, HubSpot: d.HubSpot,
		SQS: d.SQS, DLQURL: d.DLQURL, Logger: d.Log})
	if err != nil {
		return nil, fmt.Errorf("wire: activity: %w", err)
	}
	return handler.NewActivity(fwd, d.Log, append([]handler.ActivityOption{handler.WithActivityAlerts(d.Alerts)}, opts...)...), nil
}

// withLogger returns d with a logger: slog.Default() when d (built by hand,
// in tests) has none.
func (d *Deps) withLogger() *Deps {
	if d.Log != nil {
		return d
	}
	c := *d
	c.Log = slog.Default()
	return &c
}
