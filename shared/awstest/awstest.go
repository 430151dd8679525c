// Package awstest gives tests AWS SDK clients that talk to the local emulators
// (DynamoDB Local, moto's SQS, aws-ses-v2-local) on loopback.
//
// Endpoints come from the AWS SDK's own variables, AWS_ENDPOINT_URL_DYNAMODB,
// AWS_ENDPOINT_URL_SQS and AWS_ENDPOINT_URL_SES, which `make test` sets from the
// local stack. When a variable is unset the test is skipped, unless
// PILOTSYNC_REQUIRE_EMULATORS=1 (set by `make test` and CI), in which case it fails:
// CI can never pass by skipping the emulator-backed tests.
package awstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Region is the region every emulator client uses.
const Region = "us-east-1"

// Endpoint returns the emulator endpoint for service ("DYNAMODB", "SQS", "SES"),
// skipping or failing the test when it is not configured.
func Endpoint(t testing.TB, service string) string {
	t.Helper()
	v := os.Getenv("AWS_ENDPOINT_URL_" + strings.ToUpper(service))
	if v == "" {
		if os.Getenv("PILOTSYNC_REQUIRE_EMULATORS") == "1" {
			t.Fatalf("AWS_ENDPOINT_URL_%s is not set but PILOTSYNC_REQUIRE_EMULATORS=1: start the local stack (make stack-up)", strings.ToUpper(service))
		}
		t.Skipf("AWS_ENDPOINT_URL_%s not set: start the local stack (make stack-up) to run this test", strings.ToUpper(service))
	}
	if !strings.Contains(v, "127.0.0.1") && !strings.Contains(v, "localhost") && !strings.Contains(v, "[::1]") {
		t.Fatalf("AWS_ENDPOINT_URL_%s=%q is not a loopback address: tests only talk to local emulators", strings.ToUpper(service), v)
	}
	return v
}

// Config returns an aws.Config with static test credentials for the emulators.
// It never reads the machine's AWS credentials.
func Config() aws.Config {
	return aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	}
}

// DynamoDB returns a client for DynamoDB Local.
func DynamoDB(t testing.TB) *dynamodb.Client {
	t.Helper()
	ep := Endpoint(t, "DYNAMODB")
	return dynamodb.NewFromConfig(Config(), DynamoDBOptions(ep))
}

// DynamoDBOptions points a DynamoDB client at endpoint (an emulator) and
// skips the CRC32 check of its responses: DynamoDB Local answers errors
// (a failed condition, a missing table) without the X-Amz-Crc32 header, and
// the SDK then logs "failed to close HTTP response body" for each
// (aws/aws-sdk-go-v2#3545). wire.DynamoDBClient does the same for the
// functions and commands.
func DynamoDBOptions(endpoint string) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.DisableValidateResponseChecksum = true
	}
}

// SQS returns a client for the SQS emulator.
func SQS(t testing.TB) *sqs.Client {
	t.Helper()
	ep := Endpoint(t, "SQS")
	return sqs.NewFromConfig(Config(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(ep) })
}

// SES returns a client for the SES emulator.
func SES(t testing.TB) *ses.Client {
	t.Helper()
	ep := Endpoint(t, "SES")
	return ses.NewFromConfig(Config(), func(o *ses.Options) { o.BaseEndpoint = aws.String(ep) })
}

// UniqueName returns prefix followed by a random suffix, for per-test tables and
// queues so that parallel test packages never share state.
func UniqueName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// Context returns a context cancelled when the test ends.
func Context(t testing.TB) context.Context {
	t.Helper()
	return t.Context()
}

// Table creates a uniquely named table on DynamoDB Local with create (the
// store's CreateTable; passed in because awstest imports no pilotsync
// package) and deletes it when the test ends. It skips or fails like
// DynamoDB when the emulator is not configured.
func Table(t testing.TB, create func(ctx context.Context, db *dynamodb.Client, name string) error) (*dynamodb.Client, string) {
	t.Helper()
	db := DynamoDB(t)
	name := UniqueName(tablePrefix(t.Name()))
	if err := create(t.Context(), db, name); err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Errorf("delete table %s: %v", name, err)
		}
	})
	return db, name
}

// tablePrefix turns a test name into the start of a table name (DynamoDB
// allows letters, digits, '_', '-' and '.'), short enough to stay readable.
func tablePrefix(test string) string {
	b := []byte(test)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			b[i] = '_'
		}
	}
	if len(b) > 48 {
		b = b[:48]
	}
	return string(b)
}
