package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/pilotsync/pilotsync/shared/awstest"
)

// TestRunOnce runs `pilotsync run --once` against the emulators and the
// sandboxes with its own table and queues: it must seed the demo, deliver every
// queued event to the activity handler, run the poll and the daily job, and
// say what it did.
func TestRunOnce(t *testing.T) {
	table := setRunEnv(t)
	ctx := t.Context()

	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	code := dispatch(ctx, []string{"run", "--once", "--config", "../../integration.example.yaml", "--demo-users", "4"}, &stdout, &stderr)
	out := stdout.String()
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr.String())
	}
	t.Logf("stdout:\n%s", out)
	r := demoRunner.get()
	if r == nil || r.hubspot == nil || r.userpilot == nil {
		t.Fatal("the demo seeders did not run")
	}
	// HubSpot -> Userpilot: the contacts' values and the link keys.
	users := r.userpilot.Users()
	if len(users) != 4 {
		t.Errorf("userpilot holds %d users, want 4", len(users))
	}
	for id, u := range users {
		if u.Metadata["jobtitle"] != "Engineer" || u.Metadata["hubspot_lifecycle_stage"] != "lead" || u.Metadata["__hubspot__user_id"] == nil {
			t.Errorf("userpilot user %s = %v, want jobtitle, lifecycle stage and the contact id from HubSpot", id, u.Metadata)
		}
	}
	// Userpilot -> HubSpot: custom (the push) and measured (the daily job).
	contacts := r.hubspot.Records("contacts")
	for _, c := range contacts {
		if !slices.Contains([]string{"free", "pro", "enterprise"}, c.Properties["userpilot_plan"]) || c.Properties["userpilot_role"] != "admin" {
			t.Errorf("contact %s custom values %v, want plan and role from Userpilot", c.ID, c.Properties)
		}
		if c.Properties["userpilot_sessions"] == "" || c.Properties["userpilot_last_seen"] == "" {
			t.Errorf("contact %s measured values %v, want sessions and last seen", c.ID, c.Properties)
		}
	}
	for _, c := range r.hubspot.Records("companies") {
		if c.Properties["userpilot_plan"] != "pro" || c.Properties["userpilot_active_days"] == "" {
			t.Errorf("company %s = %v, want plan pro and active days", c.ID, c.Properties)
		}
	}
	// Activity: the flow completions and tracked events, within the cycle.
	if n := len(r.hubspot.Events()); n != 8 {
		t.Errorf("HubSpot received %d custom events, want 8 (2 per user)", n)
	}
	for _, want := range []string{
		"run: table " + table + " ready",
		"HubSpot: in-memory sandbox at http://127.0.0.1:",
		"demo: HubSpot sandbox seeded with 4 contacts and 2 companies",
		"14 Userpilot events queued",
		"activity: 14 message(s) in 1 batch(es): 14 done and deleted, 0 reported failed",
		"run: poll: ",
		"run: daily: ",
		"queue: 0 message(s) waiting",
		"run: cycle 1: poll ",
		"activity 14 delivered, 0 failed, daily job ran, DLQ 0; details: pilotsync status --local --table " + table,
		// The forwarder links the demo users at identify time but, as in the
		// Lambda (whose role cannot read the Userpilot key), writes nothing to
		// Userpilot: the poll writes all six linked records.
		"(read 6, written 6 to Userpilot; 6 sent to HubSpot)",
		"HubSpot -> Userpilot: 4 users and 2 companies carry HubSpot values",
		"Userpilot -> HubSpot (custom): 4 contacts and 2 companies carry userpilot_plan",
		"Userpilot -> HubSpot (measured): 4 contacts and 2 companies carry",
		"where to look: pilotsync status --local --table " + table,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestNextDailyRun(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 30, 0, 0, time.UTC)
	tests := []struct {
		at, want string
	}{
		{"03:00", "2026-11-28T03:00:00Z"},
		{"10:30", "2026-11-27T10:30:00Z"},
		{"23:59", "2026-11-27T23:59:00Z"},
	}
	for _, tt := range tests {
		got, err := nextDailyRun(now, tt.at)
		if err != nil || got.Format(time.RFC3339) != tt.want {
			t.Errorf("nextDailyRun(%s) = %v, %v; want %s", tt.at, got, err, tt.want)
		}
	}
	if _, err := nextDailyRun(now, "3am"); err == nil {
		t.Error("nextDailyRun(3am): got nil error")
	}
}

// setRunEnv points `pilotsync run` at a table and queues of the test's own
// on the emulators, with the in-memory sandboxes, and returns the table name.
func setRunEnv(t *testing.T) string {
	t.Helper()
	awstest.Endpoint(t, "DYNAMODB")
	awstest.Endpoint(t, "SQS")
	awstest.Endpoint(t, "SES")
	ctx := t.Context()
	db, q := awstest.DynamoDB(t), awstest.SQS(t)
	table := awstest.UniqueName("run")
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
	t.Setenv("PILOTSYNC_TABLE", table)
	t.Setenv("PILOTSYNC_QUEUE_URL", queue(awstest.UniqueName("run-q")))
	t.Setenv("PILOTSYNC_DLQ_URL", queue(awstest.UniqueName("run-dlq")))
	for _, k := range []string{"HUBSPOT_TOKEN", "HUBSPOT_SECRET_ARN", "USERPILOT_API_KEY", "USERPILOT_SECRET_ARN", "HUBSPOT_BASE_URL", "USERPILOT_BASE_URL"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", awstest.Region)
	t.Cleanup(func() {
		_, _ = db.DeleteTable(context.WithoutCancel(ctx), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	return table
}

// demoRunner is the runner of the last demo, captured by a demo seeder so
// TestRunOnce can look into its sandboxes.
var demoRunner capturedRunner

type capturedRunner struct {
	mu sync.Mutex
	r  *runner
}

func (c *capturedRunner) get() *runner {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.r
}

func init() {
	registerDemoSeeder("test-capture", func(_ context.Context, r *runner) error {
		demoRunner.mu.Lock()
		defer demoRunner.mu.Unlock()
		demoRunner.r = r
		return nil
	})
}
