package lambdatest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/lambdatest"
	"github.com/pilotsync/pilotsync/shared/store/storetest"
	"github.com/pilotsync/pilotsync/shared/userpilot/userpilottest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	lambdatest.Cleanup()
	os.Exit(code)
}

// repoRoot is the module root (tests run in shared/lambdatest).
const repoRoot = "../.."

// stackEnv creates what a deployed function finds in its environment: a table
// made by store.CreateTable, the queue and its DLQ, the HubSpot and Userpilot
// sandboxes, the example config, and local credentials.
func stackEnv(t *testing.T) map[string]string {
	t.Helper()
	ctx := t.Context()
	q := awstest.SQS(t)
	table := storetest.FreshTable(t).Table()
	queue := func(name string) string {
		out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
		if err != nil {
			t.Fatalf("create queue: %v", err)
		}
		t.Cleanup(func() {
			_, _ = q.DeleteQueue(context.WithoutCancel(ctx), &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl})
		})
		return aws.ToString(out.QueueUrl)
	}
	cfg, err := filepath.Abs(filepath.Join(repoRoot, "integration.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	hs := hubspottest.NewTestServer(t, hubspottest.Options{})
	up := userpilottest.NewTestServer(t, userpilottest.Options{})
	return map[string]string{
		"PILOTSYNC_CONFIG":    cfg,
		"PILOTSYNC_TABLE":     table,
		"PILOTSYNC_QUEUE_URL": queue(awstest.UniqueName("lambdatest-q")),
		"PILOTSYNC_DLQ_URL":   queue(awstest.UniqueName("lambdatest-dlq")),
		"HUBSPOT_BASE_URL":    hs.URL,
		"USERPILOT_BASE_URL":  up.URL,
		"HUBSPOT_TOKEN":       hubspottest.DefaultToken,
		"USERPILOT_API_KEY":   userpilottest.DefaultAPIKey,
	}
}

// eventFiles returns events/<pattern> from the repository.
func eventFiles(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "events", pattern))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no events/%s", pattern)
	}
	return files
}

// decodeStrict decodes b into v, refusing unknown fields.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// TestActivityUnderEmulator runs the activity function as Lambda would and
// feeds it every sample SQS event: the answer must be a well-formed partial
// batch response naming only messages of the batch.
func TestActivityUnderEmulator(t *testing.T) {
	fn := lambdatest.Start(t, lambdatest.Build(t, "activity"), lambdatest.Options{Env: stackEnv(t)})
	for _, file := range eventFiles(t, "sqs-*.json") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			payload, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var in events.SQSEvent
			if err := json.Unmarshal(payload, &in); err != nil {
				t.Fatalf("%s is not an SQS event: %v", file, err)
			}
			ids := map[string]bool{}
			for _, r := range in.Records {
				ids[r.MessageId] = true
			}
			out, err := fn.Invoke(t.Context(), payload)
			if err != nil {
				t.Fatalf("invoke: %v", err)
			}
			var resp events.SQSEventResponse
			if err := decodeStrict(out, &resp); err != nil {
				t.Fatalf("response %s is not an SQSEventResponse: %v", out, err)
			}
			if !strings.Contains(string(out), `"batchItemFailures"`) {
				t.Errorf("response %s lacks batchItemFailures (Lambda reads a missing list as all succeeded, an empty one too, but the handler always sends it)", out)
			}
			for _, f := range resp.BatchItemFailures {
				if !ids[f.ItemIdentifier] {
					t.Errorf("failure %q names no message of the batch (Lambda then retries the whole batch)", f.ItemIdentifier)
				}
			}
		})
	}
}

// TestDailyMeasuredUnderEmulator invokes the daily function with the scheduled
// event samples and checks the JSON report.
func TestDailyMeasuredUnderEmulator(t *testing.T) {
	fn := lambdatest.Start(t, lambdatest.Build(t, "daily-measured"), lambdatest.Options{Env: stackEnv(t)})
	for _, file := range eventFiles(t, "schedule*.json") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			payload, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			out, err := fn.Invoke(t.Context(), payload)
			if err != nil {
				t.Fatalf("invoke: %v", err)
			}
			var res handler.MeasuredResult
			if err := decodeStrict(out, &res); err != nil {
				t.Fatalf("response %s is not a MeasuredResult: %v", out, err)
			}
			if res.Status == "" {
				t.Errorf("status is empty in %s", out)
			}
		})
	}
	// A payload that is neither a schedule nor a manual action is a function error.
	_, err := fn.Invoke(t.Context(), []byte(`{"action":"nope"}`))
	var fe *lambdatest.FunctionError
	if !errors.As(err, &fe) || !strings.Contains(fe.Message, "unknown input") {
		t.Errorf("invoke with a bad action: err = %v, want a function error about unknown input", err)
	}
}

// TestInvokeSerialized invokes concurrently: the emulator crashes on
// concurrent invocations, so this passes only if Invoke serializes them.
func TestInvokeSerialized(t *testing.T) {
	fn := lambdatest.Start(t, lambdatest.Build(t, "daily-measured"), lambdatest.Options{Env: stackEnv(t)})
	payload := []byte(`{"action":"measure"}`)
	errs := make(chan error, 4)
	for range cap(errs) {
		go func() {
			_, err := fn.Invoke(t.Context(), payload)
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Errorf("concurrent invoke: %v", err)
		}
	}
}
