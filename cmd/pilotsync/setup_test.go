package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

const setupTestConfig = `
mapping:
  companies:
    enabled: false
activity:
  categories:
    - name: flows
      statuses: [completed, dismissed]
    - name: nps
`

// TestSetupCreatesDefinitions runs "pilotsync setup" against the HubSpot
// sandbox: one definition per enabled category and status, on contacts, with
// typed properties; a second run creates nothing.
func TestSetupCreatesDefinitions(t *testing.T) {
	hs := hubspottest.NewTestServer(t, hubspottest.Options{})
	cfgPath := filepath.Join(t.TempDir(), "integration.yaml")
	if err := os.WriteFile(cfgPath, []byte(setupTestConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cliEnv(t, "unused", hs, nil)

	code, out, errOut := runCLI(t, "setup", "--dry-run", "--config", cfgPath)
	if code != exitOK || len(hs.EventDefinitions()) != 0 {
		t.Fatalf("dry run: exit %d (%s), %d definitions created", code, errOut, len(hs.EventDefinitions()))
	}
	code, out, errOut = runCLI(t, "setup", "--config", cfgPath)
	if code != exitOK {
		t.Fatalf("setup exit %d: %s", code, errOut)
	}
	var output setupOutput
	if err := json.Unmarshal([]byte(out), &output); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	got := output.EventDefinitions
	// NPS includes the SDK statuses STARTED, SKIPPED, SUBMITTED (issue 9.15).
	want := []string{"userpilot_flow_completed", "userpilot_flow_dismissed", "userpilot_nps_ask_later", "userpilot_nps_feedback",
		"userpilot_nps_skipped", "userpilot_nps_started", "userpilot_nps_submitted"}
	if len(got) != len(want) {
		t.Fatalf("got %d definitions %+v, want %v", len(got), got, want)
	}
	for i, d := range got {
		if d.Name != want[i] || !strings.HasSuffix(d.FullyQualifiedName, "_"+want[i]) || d.PrimaryObject != "CONTACT" {
			t.Errorf("definition %d: got %+v, want %s", i, d, want[i])
		}
	}
	defs := hs.EventDefinitions()
	if len(defs) != len(want) {
		t.Fatalf("sandbox holds %d definitions, want %d", len(defs), len(want))
	}
	for _, d := range defs {
		if d.PrimaryObject != "CONTACT" {
			t.Errorf("%s on %s", d.Name, d.PrimaryObject)
		}
		if d.Name == "userpilot_nps_feedback" {
			types := map[string]string{}
			for _, p := range d.Properties {
				types[p.Name] = p.Type
			}
			if types["score"] != "number" || types["feedback"] != "string" || types["userpilot_user_id"] != "string" {
				t.Errorf("nps feedback properties %v", types)
			}
		}
	}
	creates := hs.Count(hubspottest.EndpointEventDefinitions)
	if code, _, errOut := runCLI(t, "setup", "--config", cfgPath); code != exitOK {
		t.Fatalf("second setup exit %d: %s", code, errOut)
	}
	if n := len(hs.EventDefinitions()); n != len(want) {
		t.Errorf("second run: %d definitions, want %d", n, len(want))
	}
	if calls := hs.Count(hubspottest.EndpointEventDefinitions) - creates; calls != 1 {
		t.Errorf("second run made %d definition calls, want 1 (the list)", calls)
	}
}
