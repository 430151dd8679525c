package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pilotsync/pilotsync/shared/awstest"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/userpilot/userpilottest"
)

// cliEnv sets, for one test, the environment the commands read: the table,
// the HubSpot sandbox (and the Userpilot one when up is not nil) with their
// test credentials, AWS test credentials for the local stack, and no
// Secrets Manager secrets. A command that needs no table gets "unused".
func cliEnv(t *testing.T, table string, hs *hubspottest.Server, up *userpilottest.Server) {
	t.Helper()
	env := map[string]string{
		"PILOTSYNC_TABLE": table, "HUBSPOT_TOKEN": hubspottest.DefaultToken, "HUBSPOT_BASE_URL": hs.URL,
		"USERPILOT_API_KEY": userpilottest.DefaultAPIKey,
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": awstest.Region,
		"HUBSPOT_SECRET_ARN": "", "USERPILOT_SECRET_ARN": "",
	}
	if up != nil {
		env["USERPILOT_BASE_URL"] = up.URL
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// writeTestFile writes content to name in dir and returns its path.
func writeTestFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
