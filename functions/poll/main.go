// Command poll is the pilotsync poll Lambda function. It only wires: the
// behaviour lives in shared/handler and the engines behind it.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pilotsync/pilotsync/shared/handler"
)

func main() {
	h := handler.NewPoll()
	lambda.Start(h.Handle)
}
