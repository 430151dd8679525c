package cause

import (
	"errors"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// dynamoDBService is the smithy service id of DynamoDB's operation errors.
const dynamoDBService = "DynamoDB"

// storeUnreachable reports whether err is a DynamoDB call that got no usable
// answer: an operation error of the DynamoDB client with no service error in
// it (a timeout, a refused or reset connection), or a server fault (HTTP 5xx). A
// service's client-side refusal (a failed condition, a validation error,
// throttling) means DynamoDB answered, so it is not.
func storeUnreachable(err error) bool {
	var op *smithy.OperationError
	if !errors.As(err, &op) || op.ServiceID != dynamoDBService {
		return false
	}
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() >= 500 {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorFault() == smithy.FaultServer
	}
	return true
}
