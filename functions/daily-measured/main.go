// Command daily-measured is the pilotsync daily Lambda function: it computes the
// measured and auto properties over the configured period and sends the changed
// ones to HubSpot. It only wires: the behaviour lives in shared/handler and the
// engines behind it.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/wire"
)

func main() {
	log := wire.Logger()
	deps, err := wire.Build(context.Background(), wire.WithLogger(log), wire.WithoutUserpilot())
	if err != nil {
		log.Error("daily-measured: start-up failed", "err", err)
		os.Exit(1)
	}
	h, err := handler.NewMeasuredFromDeps(deps.Config, deps.Store, deps.HubSpot, deps.Notifier, deps.Log)
	if err != nil {
		log.Error("daily-measured: start-up failed", "err", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
