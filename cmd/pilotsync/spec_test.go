package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/config"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/store/storetest"
	"github.com/pilotsync/pilotsync/shared/userpilot/userpilottest"
)

// specAPIVersions are the HubSpot API versions the client speaks.
var specAPIVersions = []string{config.APIVersionV3, config.APIVersion202603}

// exampleConfigFor writes integration.example.yaml with hubspot.api_version
// set to version, and returns its path.
func exampleConfigFor(t *testing.T, version string) string {
	t.Helper()
	raw, err := os.ReadFile("../../integration.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const line = `api_version: "2026-03"`
	if !bytes.Contains(raw, []byte(line)) {
		t.Fatalf("integration.example.yaml has no %s line", line)
	}
	raw = bytes.Replace(raw, []byte(line), []byte(`api_version: "`+version+`"`), 1)
	path := filepath.Join(t.TempDir(), "integration.yaml")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCommandsSpeakHubSpotSpec runs setup, validate --hubspot and sync on
// both API versions against a HubSpot sandbox that checks every request it
// receives against HubSpot's official OpenAPI descriptions (issue 9).
func TestCommandsSpeakHubSpotSpec(t *testing.T) {
	for _, version := range specAPIVersions {
		t.Run(version, func(t *testing.T) {
			table := storetest.FreshTable(t).Table()
			hs := hubspottest.NewTestServer(t, hubspottest.Options{})
			hs.CheckSpec(t)
			up := userpilottest.NewTestServer(t, userpilottest.Options{})
			// Properties the example maps that a fresh account lacks (setup
			// creates only outbound and measured ones).
			hs.CreateProperty("contacts", hubspottest.Property{Name: "jobtitle", Type: "string", FieldType: "text"})
			hs.CreateProperty("contacts", hubspottest.Property{Name: "hs_lead_status", Type: "enumeration", FieldType: "select",
				Options: []hubspottest.PropertyOption{{Label: "New", Value: "NEW"}}})
			hs.CreateProperty("companies", hubspottest.Property{Name: "userpilot_company_id", Type: "string", FieldType: "text", HasUniqueValue: true})
			hs.SeedContacts(2, func(i int) hubspottest.SeedRecord {
				return hubspottest.SeedRecord{Properties: map[string]string{"email": []string{"ann@example.com", "bob@example.com"}[i], "firstname": []string{"Ann", "Bob"}[i]},
					ModifiedAt: time.Now().Add(-time.Hour)}
			})
			cliEnv(t, table, hs, up)
			cfg := exampleConfigFor(t, version)
			for _, args := range [][]string{
				{"setup", "--config", cfg},
				{"validate", "--hubspot", "--config", cfg},
				{"sync", "--config", cfg},
				{"sync", "--incremental", "--config", cfg},
			} {
				var stdout, stderr bytes.Buffer
				code := dispatch(context.Background(), args, &stdout, &stderr)
				t.Logf("%s: exit %d", strings.Join(args[:len(args)-2], " "), code)
				if code != exitOK {
					t.Errorf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout.String(), stderr.String())
				}
			}
			if len(hs.Requests()) == 0 {
				t.Fatal("the commands sent HubSpot nothing")
			}
		})
	}
}

// TestRunOnceSpeaksHubSpotSpec runs `pilotsync run --once` on both API
// versions with its HubSpot sandbox checking every request against
// HubSpot's official OpenAPI descriptions.
func TestRunOnceSpeaksHubSpotSpec(t *testing.T) {
	for _, version := range specAPIVersions {
		t.Run(version, func(t *testing.T) {
			setRunEnv(t)
			var sandbox *hubspottest.Server
			prev := sandboxStarted
			sandboxStarted = func(s *hubspottest.Server) { sandbox = s; s.CheckSpec(t) }
			t.Cleanup(func() { sandboxStarted = prev })
			ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
			defer cancel()
			var stdout, stderr bytes.Buffer
			code := dispatch(ctx, []string{"run", "--once", "--config", exampleConfigFor(t, version), "--demo-users", "4"}, &stdout, &stderr)
			if code != exitOK {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
			}
			if sandbox == nil || len(sandbox.Requests()) == 0 {
				t.Fatal("run --once sent its HubSpot sandbox nothing")
			}
		})
	}
}
