package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

const setupPropsConfig = `
mapping:
  users:
    outbound:
      - userpilot: plan
        hubspot: userpilot_plan
      - userpilot: seats
        hubspot: userpilot_seats
        type: number
      - userpilot: trial
        hubspot: userpilot_trial
        type: bool
    measured:
      - metric: sessions
        hubspot: userpilot_sessions
      - metric: last_seen
        hubspot: userpilot_last_seen
  companies:
    enabled: false
activity:
  sink: none
`

func setupEnv(t *testing.T, hs *hubspottest.Server) string {
	t.Helper()
	cliEnv(t, "unused", hs, nil)
	path := writeTestFile(t, t.TempDir(), "integration.yaml", setupPropsConfig)
	return path
}

// TestSetupCreatesProperties: --dry-run lists the outbound and measured
// properties it would create and creates nothing; setup creates them in the
// pilotsync group with their types; a second run finds them all.
func TestSetupCreatesProperties(t *testing.T) {
	hs := hubspottest.NewTestServer(t, hubspottest.Options{})
	path := setupEnv(t, hs)
	want := map[string]string{"userpilot_plan": "string/text", "userpilot_seats": "number/number", "userpilot_trial": "bool/booleancheckbox",
		"userpilot_sessions": "number/number", "userpilot_last_seen": "datetime/date"}
	check := func(args []string, action string) {
		t.Helper()
		code, out, errOut := runCLI(t, args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		var got setupOutput
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
		if len(got.Properties.Properties) != len(want) {
			t.Fatalf("%v: %+v, want %d properties", args, got.Properties.Properties, len(want))
		}
		for _, p := range got.Properties.Properties {
			if want[p.Name] != p.Type+"/"+p.FieldType || p.Action != action || p.Object != "contacts" {
				t.Errorf("%v: %+v, want %s %s", args, p, want[p.Name], action)
			}
		}
	}
	check([]string{"setup", "--dry-run", "--config", path}, "create")
	for _, p := range hs.Properties("contacts") {
		if _, ok := want[p.Name]; ok {
			t.Fatalf("dry run created %s", p.Name)
		}
	}
	check([]string{"setup", "--config", path}, "created")
	n := 0
	for _, p := range hs.Properties("contacts") {
		if w, ok := want[p.Name]; ok {
			n++
			if p.Type+"/"+p.FieldType != w || p.GroupName != "pilotsync" {
				t.Errorf("HubSpot holds %s as %s/%s in %s, want %s in pilotsync", p.Name, p.Type, p.FieldType, p.GroupName, w)
			}
		}
	}
	if n != len(want) {
		t.Errorf("HubSpot holds %d of the %d properties", n, len(want))
	}
	check([]string{"setup", "--config", path}, "exists")
	if code, out, errOut := runCLI(t, "validate", "--hubspot", "--config", path); code != exitOK {
		t.Errorf("validate --hubspot after setup: exit %d: %s%s", code, out, errOut)
	}
}

// TestSetupRefusesAndValidateReports: a number mapped to an existing date
// property makes setup fail naming the property, its type and the types
// needed, creating nothing; validate --hubspot reports the same.
func TestSetupRefusesAndValidateReports(t *testing.T) {
	hs := hubspottest.NewTestServer(t, hubspottest.Options{})
	path := setupEnv(t, hs)
	hs.CreateProperty("contacts", hubspottest.Property{Name: "userpilot_seats", Label: "Seats", Type: "date", FieldType: "date", GroupName: "contactinformation"})
	want := `property "userpilot_seats" has type date, but "seats" is mapped as number, which needs a property of type number or string`
	code, _, errOut := runCLI(t, "setup", "--config", path)
	if code != exitFailure || !strings.Contains(errOut, want) || !strings.Contains(errOut, "integration.yaml:8: mapping.users.outbound[1].hubspot") {
		t.Errorf("setup: exit %d, stderr %q; want a failure naming line 8 and %q", code, errOut, want)
	}
	for _, p := range hs.Properties("contacts") {
		if p.Name == "userpilot_plan" || p.Name == "userpilot_sessions" {
			t.Errorf("setup created %s despite the refusal", p.Name)
		}
	}
	code, out, _ := runCLI(t, "validate", "--hubspot", "--config", path)
	if code != exitFailure || !strings.Contains(out, want) {
		t.Errorf("validate --hubspot: exit %d, output %q; want %q", code, out, want)
	}
}
