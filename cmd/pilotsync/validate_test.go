package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
