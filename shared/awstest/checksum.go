package awstest

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/logging"
)

// LogsChecksumWarning builds a client with build from cfg and a logger of
// its own, sends a put to table whose condition fails, and reports whether
// the SDK logged "failed to close HTTP response body": it does when it
// checks the CRC32 of DynamoDB Local's error answers, which carry none
// (aws/aws-sdk-go-v2#3545). The test fails unless the put fails with
// ConditionalCheckFailedException.
func LogsChecksumWarning(t testing.TB, cfg aws.Config, table string, build func(aws.Config) *dynamodb.Client) bool {
	t.Helper()
	var logs bytes.Buffer
	cfg = cfg.Copy()
	cfg.Logger = logging.NewStandardLogger(&logs)
	_, err := build(cfg).PutItem(t.Context(), &dynamodb.PutItemInput{
		TableName: aws.String(table),
		Item: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "checksum"}, "SK": &types.AttributeValueMemberS{Value: "x"},
		},
		ConditionExpression: aws.String("attribute_exists(PK)"),
	})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("put with a failing condition: %v, want ConditionalCheckFailedException", err)
	}
	return strings.Contains(logs.String(), "failed to close HTTP response body")
}
