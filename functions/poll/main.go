// Command poll is the pilotsync poll Lambda function: the 5-minute inbound
// poll, and the manual {"action":"sync"} (sync now) and {"action":"import"}
// invocations. It only wires: the behaviour lives in shared/handler and the
// engines behind it.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	h, err := build(context.Background(), log)
	if err != nil {
		log.Error("poll: start-up failed", "err", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}
