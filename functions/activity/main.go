// Command activity is the pilotsync activity Lambda function (SQS trigger with
// ReportBatchItemFailures): it forwards Userpilot activity to HubSpot and
// records identify events. It only wires: shared/wire builds the handler (the
// same constructor the local runner uses), the behaviour lives in
// shared/handler and shared/forward.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pilotsync/pilotsync/shared/wire"
)

func main() {
	log := wire.Logger()
	h, err := wire.Activity(context.Background(), wire.WithLogger(log))
	if err != nil {
		log.Error("activity: start-up failed", "err", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
