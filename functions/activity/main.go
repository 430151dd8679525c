// Command activity is the pilotsync activity Lambda function (SQS trigger with
// ReportBatchItemFailures): it forwards Userpilot activity to HubSpot and
// records identify events. It only wires: the behaviour lives in
// shared/handler and shared/forward.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pilotsync/pilotsync/shared/forward"
	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/wire"
)

func main() {
	log := wire.Logger()
	deps, err := wire.Build(context.Background(), wire.WithLogger(log), wire.WithoutUserpilot())
	if err != nil {
		log.Error("activity: start-up failed", "err", err)
		os.Exit(1)
	}
	if deps.DLQURL == "" {
		log.Warn("activity: " + wire.EnvDLQURL + " is not set: invalid messages are left to the queue's redrive policy")
	}
	fwd, err := forward.NewFromDeps(forward.Deps{Config: deps.Config, Store: deps.Store, HubSpot: deps.HubSpot, Userpilot: deps.Userpilot,
		SQS: deps.SQS, DLQURL: deps.DLQURL, Logger: deps.Log})
	if err != nil {
		log.Error("activity: start-up failed", "err", err)
		os.Exit(1)
	}
	lambda.Start(handler.NewActivity(fwd, deps.Log, handler.WithActivityAlerts(deps.Alerts)).Handle)
}
