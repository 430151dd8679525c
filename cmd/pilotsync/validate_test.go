package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

const validConfig = `
mapping:
  companies:
    match:
      hubspot: userpilot_company_id
notifications:
  recipients: [ops@example.com]
  sender: pilotsync@example.com
`

const brokenConfig = `userpilot:
  environment: prod
mapping:
  users:
    inbond: []
  companies:
    match:
      hubspot: Domain
schedule:
  daily_at: "7pm"
`

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	valid := writeFile(t, dir, "valid.yaml", validConfig)
	broken := writeFile(t, dir, "broken.yaml", brokenConfig)

	tests := []struct {
		name       string
		args       []string
		env        string // PILOTSYNC_CONFIG
		wantCode   int
		wantStdout []string
		wantStderr []string
		// wantLines is the exact number of stdout lines, when > 0.
		wantLines int
	}{
		{name: "valid file", args: []string{"--config", valid}, wantCode: exitOK,
			wantStdout: []string{valid + ": OK", "users:     -> contacts by email = email", "companies: -> companies by company_id = userpilot_company_id", "activity:  custom_events (all categories)", "notify:    1 recipient from pilotsync@example.com"}},
		{name: "every problem with its line", args: []string{"-config", broken}, wantCode: exitFailure,
			wantStdout: []string{
				broken + `:2: userpilot.environment: "prod" is not one of production, staging`,
				broken + `:5: mapping.users.inbond: unknown key "inbond" (did you mean "inbound"?)`,
				broken + `:8: mapping.companies.match.hubspot: "Domain" is not a HubSpot property name`,
				broken + `:10: schedule.daily_at: want a UTC time of day as HH:MM`,
			},
			wantStderr: []string{broken + " has 4 problems"}, wantLines: 4},
		{name: "path from the environment", env: broken, wantCode: exitFailure, wantStdout: []string{broken + ":2:"}},
		{name: "flag beats the environment", args: []string{"--config", valid}, env: broken, wantCode: exitOK, wantStdout: []string{valid + ": OK"}},
		{name: "default ./integration.yaml", wantCode: exitFailure, wantStderr: []string{"integration.yaml"}},
		{name: "missing file", args: []string{"--config", filepath.Join(dir, "nope.yaml")}, wantCode: exitFailure, wantStderr: []string{"config: read", "nope.yaml"}},
		{name: "example file", args: []string{"--config", "../../integration.example.yaml"}, wantCode: exitOK, wantStdout: []string{"integration.example.yaml: OK"}},
		{name: "unknown flag", args: []string{"--conf", valid}, wantCode: exitUsage, wantStderr: []string{"flag provided but not defined: -conf", "Usage: pilotsync validate"}},
		{name: "stray argument", args: []string{valid}, wantCode: exitUsage, wantStderr: []string{"unexpected argument"}},
		{name: "help", args: []string{"-h"}, wantCode: exitOK, wantStdout: []string{"Usage: pilotsync validate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PILOTSYNC_CONFIG", tt.env)
			if tt.name == "default ./integration.yaml" {
				t.Chdir(t.TempDir()) // no integration.yaml here
			}
			var stdout, stderr bytes.Buffer
			got := dispatch(context.Background(), append([]string{"validate"}, tt.args...), &stdout, &stderr)
			if got != tt.wantCode {
				t.Errorf("exit code: got %d, want %d\nstdout: %s\nstderr: %s", got, tt.wantCode, &stdout, &stderr)
			}
			for _, w := range tt.wantStdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout: got\n%s\nwant it to contain %q", &stdout, w)
				}
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr: got\n%s\nwant it to contain %q", &stderr, w)
				}
			}
			if tt.wantLines > 0 {
				if n := strings.Count(stdout.String(), "\n"); n != tt.wantLines {
					t.Errorf("stdout: got %d lines, want %d", n, tt.wantLines)
				}
			}
		})
	}
}

// TestValidateAgainstHubSpot runs validate --hubspot against the HubSpot
// sandbox: mapped properties that do not exist or cannot be written are
// reported with their lines; a config that fits the account passes.
func TestValidateAgainstHubSpot(t *testing.T) {
	hs := hubspottest.NewTestServer(t, hubspottest.Options{})
	hs.CreateProperty("companies", hubspottest.Property{Name: "userpilot_company_id", Type: "string", FieldType: "text", HasUniqueValue: true})
	t.Setenv("HUBSPOT_TOKEN", hubspottest.DefaultToken)
	t.Setenv("HUBSPOT_BASE_URL", hs.URL)
	t.Setenv("HUBSPOT_SECRET_ARN", "")
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yaml", `mapping:
  users:
    inbound:
      - hubspot: emial
    outbound:
      - userpilot: other_emails
        hubspot: hs_additional_emails
  companies:
    match:
      hubspot: userpilot_company_id
`)
	good := writeFile(t, dir, "good.yaml", validConfig)

	var stdout, stderr bytes.Buffer
	code := runValidate(context.Background(), []string{"--hubspot", "--config", bad}, &stdout, &stderr)
	if code != exitFailure {
		t.Fatalf("bad config: exit %d, want %d; stdout %q stderr %q", code, exitFailure, stdout.String(), stderr.String())
	}
	for _, want := range []string{
		bad + `:4: mapping.users.inbound[0].hubspot:`,
		`emial`,
		bad + `:7: mapping.users.outbound[0].hubspot:`,
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout %q, want it to contain %q", stdout.String(), want)
		}
	}
	if got := strings.Count(strings.TrimSpace(stdout.String()), "\n") + 1; got != 2 {
		t.Errorf("got %d problems, want 2:\n%s", got, stdout.String())
	}

	stdout.Reset()
	stderr.Reset()
	if code := runValidate(context.Background(), []string{"--hubspot", "--config", good}, &stdout, &stderr); code != exitOK {
		t.Fatalf("good config: exit %d, want %d; stdout %q stderr %q", code, exitOK, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "every mapped property exists") {
		t.Errorf("stdout %q, want the HubSpot check reported", stdout.String())
	}
	if hs.Count("properties") == 0 {
		t.Error("validate --hubspot made no properties call")
	}

	t.Setenv("HUBSPOT_TOKEN", "")
	stdout.Reset()
	stderr.Reset()
	if code := runValidate(context.Background(), []string{"--hubspot", "--config", good}, &stdout, &stderr); code != exitFailure || !strings.Contains(stderr.String(), "HUBSPOT_TOKEN") {
		t.Errorf("no credential: exit %d, stderr %q; want a failure naming HUBSPOT_TOKEN", code, stderr.String())
	}
}
