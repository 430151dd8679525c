package wire

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/pilotsync/pilotsync/shared/handler"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/metrics"
)

// emfLines decodes the EMF lines in out: each root object, with the metric
// names its directive declares.
func emfLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var root map[string]any
		if err := json.Unmarshal([]byte(l), &root); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		d := root["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)
		if d["Namespace"] != metrics.Namespace {
			t.Errorf("namespace %v", d["Namespace"])
		}
		for _, m := range d["Metrics"].([]any) {
			if _, ok := root[m.(map[string]any)["Name"].(string)].(float64); !ok {
				t.Errorf("declared metric %v has no value: %s", m, l)
			}
		}
		lines = append(lines, root)
	}
	return lines
}

// TestPollPrintsEMF: every poll run prints one EMF line with its counts, API
// calls and 429s, the failure flag and the Lambda request id.
func TestPollPrintsEMF(t *testing.T) {
	t.Parallel()
	w := newPollWorld(t, awstest.DynamoDB(t))
	var out bytes.Buffer
	em := metrics.New(&out, "pilotsync-PollFunction")
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-123"})

	// One 429 the client retries (the first run is a full sync: it lists).
	w.hs.FailNext(hubspottest.EndpointList, 429)
	if _, err := w.pollHandler(t, hubspottest.DefaultToken, handler.WithPollMetrics(em)).Handle(ctx, handler.PollInput{Action: handler.PollActionPoll}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.pollHandler(t, "revoked-token", handler.WithPollMetrics(em)).Handle(ctx, handler.PollInput{Action: handler.PollActionPoll}); !errors.Is(err, handler.ErrRunFailed) {
		t.Fatalf("failed run: %v", err)
	}
	lines := emfLines(t, out.String())
	if len(lines) != 2 {
		t.Fatalf("EMF lines = %d, want one per run: %s", len(lines), out.String())
	}
	ok, failed := lines[0], lines[1]
	if ok["Job"] != "inbound" || ok["Function"] != "pilotsync-PollFunction" || ok["requestId"] != "req-123" {
		t.Errorf("dimensions/request id: %v", ok)
	}
	if ok[metrics.RecordsRead] != 2.0 || ok[metrics.RunFailed] != 0.0 || ok[metrics.APICalls].(float64) < 2 || ok[metrics.RateLimited] != 1.0 {
		t.Errorf("clean run metrics: read %v failed %v calls %v 429s %v, want 2, 0, >= 2, 1",
			ok[metrics.RecordsRead], ok[metrics.RunFailed], ok[metrics.APICalls], ok[metrics.RateLimited])
	}
	if failed[metrics.RunFailed] != 1.0 {
		t.Errorf("failed run RunFailed = %v, want 1", failed[metrics.RunFailed])
	}
}
