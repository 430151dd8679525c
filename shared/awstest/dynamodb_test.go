package awstest_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/store"
)

// TestDynamoDBOptionsLogNoChecksumWarning: a client with only the endpoint
// set logs a checksum warning for each of DynamoDB Local's error answers;
// the tests' clients, built with DynamoDBOptions, log none and still see
// the failed condition.
func TestDynamoDBOptionsLogNoChecksumWarning(t *testing.T) {
	t.Parallel()
	_, table := awstest.Table(t, store.CreateTable)
	ep := awstest.Endpoint(t, "DYNAMODB")
	for _, tc := range []struct {
		name     string
		opts     func(*dynamodb.Options)
		wantWarn bool
	}{
		{"the endpoint alone", func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ep) }, true},
		{"DynamoDBOptions", awstest.DynamoDBOptions(ep), false},
	} {
		build := func(c aws.Config) *dynamodb.Client { return dynamodb.NewFromConfig(c, tc.opts) }
		if got := awstest.LogsChecksumWarning(t, awstest.Config(), table, build); got != tc.wantWarn {
			t.Errorf("%s: logged the checksum warning: %v, want %v", tc.name, got, tc.wantWarn)
		}
	}
}
