// Command poll is the pilotsync poll Lambda function: the 5-minute inbound
// poll followed by the outbound custom properties push, and the manual
// {"action":"sync"} (sync now), {"action":"setup"} and {"action":"import"}
// invocations. It only wires: the behaviour lives in shared/handler and the
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
	deps, err := wire.Build(context.Background(), wire.WithLogger(log))
	if err != nil {
		log.Error("poll: start-up failed", "err", err)
		os.Exit(1)
	}
	h, err := handler.NewPollFromDeps(deps.Config, deps.Store, deps.HubSpot, deps.Userpilot, deps.Log,
		handler.WithPollAlerts(deps.Alerts))
	if err != nil {
		log.Error("poll: start-up failed", "err", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
