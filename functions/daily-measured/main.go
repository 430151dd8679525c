// Command daily-measured is the pilotsync daily Lambda function: it computes the
// measured and auto properties over the configured period and sends the changed
// ones to HubSpot. It only wires: shared/wire builds the handler (the same
// constructor the local runner uses), the behaviour lives in shared/handler and
// the engines behind it.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pilotsync/pilotsync/shared/wire"
)

func main() {
	log := wire.Logger()
	h, err := wire.DailyMeasured(context.Background(), wire.WithLogger(log))
	if err != nil {
		log.Error("daily-measured: start-up failed", "err", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
