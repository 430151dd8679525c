package wire

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/store"
)

// TestDynamoDBClientAgainstDynamoDBLocalLogsNoChecksumWarning: DynamoDB
// Local answers an error (here a failed condition) without an X-Amz-Crc32
// header, and the SDK's default client then logs "failed to close HTTP
// response body" for it (aws/aws-sdk-go-v2#3545): `pilotsync run` printed
// one for every version conflict. The client pilotsync builds for an
// endpoint override logs nothing, and still reports the failed condition.
func TestDynamoDBClientAgainstDynamoDBLocalLogsNoChecksumWarning(t *testing.T) {
	t.Parallel()
	_, table := awstest.Table(t, store.CreateTable)
	// As the functions and commands load it: the endpoint comes from
	// AWS_ENDPOINT_URL_DYNAMODB (which make test sets).
	cfg, err := awsconfig.LoadDefaultConfig(t.Context(), awsconfig.WithRegion(awstest.Region),
		awsconfig.WithCredentialsProvider(awstest.Config().Credentials))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		client   func(aws.Config) *dynamodb.Client
		wantWarn bool
	}{
		{"the SDK's default client", func(c aws.Config) *dynamodb.Client { return dynamodb.NewFromConfig(c) }, true},
		{"DynamoDBClient", DynamoDBClient, false},
	} {
		if got := awstest.LogsChecksumWarning(t, cfg, table, tc.client); got != tc.wantWarn {
			t.Errorf("%s: logged the checksum warning: %v, want %v", tc.name, got, tc.wantWarn)
		}
	}
}
