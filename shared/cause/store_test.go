package cause

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestOfStoreUnreachable(t *testing.T) {
	op := func(service string, err error) error {
		return fmt.Errorf("store: acquire lease inbound: %w", &smithy.OperationError{ServiceID: service, OperationName: "UpdateItem", Err: err})
	}
	resp := func(status int, err error) error {
		return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err}
	}
	tests := []struct {
		name string
		err  error
		want Cause
	}{
		{"timeout", op("DynamoDB", resp(0, context.DeadlineExceeded)), StoreUnreachable},
		{"connection refused", op("DynamoDB", errors.New("dial tcp 127.0.0.1:8000: connect: connection refused")), StoreUnreachable},
		{"server fault", op("DynamoDB", resp(500, &smithy.GenericAPIError{Code: "InternalServerError"})), StoreUnreachable},
		{"condition failed", op("DynamoDB", resp(400, &smithy.GenericAPIError{Code: "ConditionalCheckFailedException", Fault: smithy.FaultClient})), Other},
		{"throttled", op("DynamoDB", resp(400, &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException", Fault: smithy.FaultClient})), Other},
		{"another service", op("SES", context.DeadlineExceeded), Other},
		{"plain deadline", context.DeadlineExceeded, Other},
	}
	for _, tt := range tests {
		if got := Of(tt.err); got != tt.want {
			t.Errorf("%s: Of = %q, want %q", tt.name, got, tt.want)
		}
	}
}
