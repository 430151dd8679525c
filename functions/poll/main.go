// Command poll is the pilotsync poll Lambda function: the 5-minute inbound
// poll followed by the outbound custom properties push, and the manual
// {"action":"sync"} (sync now), {"action":"setup"} and {"action":"import"}
// invocations. It only wires: shared/wire builds the handler (the same
// constructor the local runner uses), the behaviour lives in shared/handler
// and the engines behind it.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pilotsync/pilotsync/shared/wire"
)

func main() {
	log := wire.Logger()
	h, err := wire.Poll(context.Background(), wire.WithLogger(log))
	if err != nil {
		log.Error("poll: start-up failed", "err", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
