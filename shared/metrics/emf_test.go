package metrics

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// CheckEMF decodes one EMF line and checks it against the EMF specification:
// a root _aws object with a millisecond Timestamp and one directive in
// Namespace whose dimensions and metrics are all root members. It returns
// the metric values.
func checkEMF(t *testing.T, line string) (map[string]float64, map[string]any) {
	t.Helper()
	var root map[string]any
	if err := json.Unmarshal([]byte(line), &root); err != nil {
		t.Fatalf("EMF line is not JSON: %v: %s", err, line)
	}
	meta, _ := root["_aws"].(map[string]any)
	if ts, ok := meta["Timestamp"].(float64); !ok || ts < 1e12 {
		t.Fatalf("_aws.Timestamp = %v, want epoch milliseconds", meta["Timestamp"])
	}
	dirs, _ := meta["CloudWatchMetrics"].([]any)
	if len(dirs) != 1 {
		t.Fatalf("CloudWatchMetrics = %v, want one directive", meta["CloudWatchMetrics"])
	}
	d := dirs[0].(map[string]any)
	if d["Namespace"] != Namespace {
		t.Errorf("Namespace = %v, want %s", d["Namespace"], Namespace)
	}
	for _, set := range d["Dimensions"].([]any) {
		for _, dim := range set.([]any) {
			if _, ok := root[dim.(string)].(string); !ok {
				t.Errorf("dimension %v is not a string root member", dim)
			}
		}
	}
	vals := map[string]float64{}
	for _, m := range d["Metrics"].([]any) {
		name := m.(map[string]any)["Name"].(string)
		v, ok := root[name].(float64)
		if !ok {
			t.Errorf("metric %s has no numeric root member", name)
		}
		vals[name] = v
	}
	return vals, root
}

func TestEmitEMF(t *testing.T) {
	var b strings.Builder
	e := New(&b, "pilotsync-PollFunction")
	e.Emit(t.Context(), "inbound", map[string]float64{RecordsRead: 3, DurationMS: 12})
	var nilE *Emitter
	nilE.Emit(t.Context(), "inbound", map[string]float64{RecordsRead: 1}) // off: writes nothing
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("lines = %q, want one", lines)
	}
	vals, root := checkEMF(t, lines[0])
	if vals[RecordsRead] != 3 || vals[DurationMS] != 12 || root["Function"] != "pilotsync-PollFunction" || root["Job"] != "inbound" {
		t.Errorf("line %s", lines[0])
	}
	if !strings.Contains(lines[0], `{"Name":"DurationMs","Unit":"Milliseconds"}`) {
		t.Errorf("DurationMs not in milliseconds: %s", lines[0])
	}
	many := map[string]float64{}
	for i := range 150 {
		many[fmt.Sprintf("m%03d", i)] = 1
	}
	b.Reset()
	e.Emit(t.Context(), "x", many)
	if vals, _ := checkEMF(t, strings.TrimSpace(b.String())); len(vals) != maxMetrics {
		t.Errorf("metrics in one directive = %d, want at most %d", len(vals), maxMetrics)
	}
}
