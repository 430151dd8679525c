package lambdatest_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pilotsync/pilotsync/shared/lambdatest"
)

// TestActivityLogsUnderEmulator runs the built activity bootstrap under the
// runtime emulator with the template's JSON log format: each invocation
// prints one CloudWatch EMF line (namespace pilotsync) for its batch, and
// its JSON log lines carry the Lambda request id.
func TestActivityLogsUnderEmulator(t *testing.T) {
	env := stackEnv(t)
	env["AWS_LAMBDA_LOG_FORMAT"] = "JSON" // template.yaml: LoggingConfig.LogFormat JSON
	fn := lambdatest.Start(t, lambdatest.Build(t, "activity"), lambdatest.Options{Env: env})
	payload, err := os.ReadFile(filepath.Join(repoRoot, "events", "sqs-all.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fn.Invoke(t.Context(), payload); err != nil {
		t.Fatalf("invoke: %v", err)
	}
	var emf, withID int
	for _, line := range strings.Split(fn.Logs(), "\n") {
		var m map[string]any
		if !strings.HasPrefix(strings.TrimSpace(line), "{") || json.Unmarshal([]byte(line), &m) != nil {
			continue
		}
		if id, _ := m["requestId"].(string); id != "" {
			withID++
		}
		if aws, ok := m["_aws"].(map[string]any); ok {
			emf++
			d := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
			if d["Namespace"] != "pilotsync" || m["Job"] != "activity" || m["Function"] == "" {
				t.Errorf("EMF line %s: want namespace pilotsync, job activity and the function name", line)
			}
			if _, ok := m["EventsDelivered"].(float64); !ok {
				t.Errorf("EMF line without EventsDelivered: %s", line)
			}
			if m["requestId"] == nil {
				t.Errorf("EMF line without the request id: %s", line)
			}
		}
	}
	if emf != 1 {
		t.Errorf("EMF lines = %d, want 1 for the one batch; logs:\n%s", emf, fn.Logs())
	}
	if withID < 2 {
		t.Errorf("JSON log lines with a requestId = %d, want the batch's log lines too; logs:\n%s", withID, fn.Logs())
	}
}
