package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/preview"
	"github.com/pilotsync/pilotsync/shared/store/storetest"
	"github.com/pilotsync/pilotsync/shared/userpilot/userpilottest"
)

// TestPreviewCommand imports users, then runs "pilotsync preview" in text
// and JSON: an imported user HubSpot knows would be linked and get its
// first name; an unknown address is not found; only reads reach HubSpot and
// nothing reaches Userpilot.
func TestPreviewCommand(t *testing.T) {
	table := storetest.FreshTable(t).Table()
	hs := hubspottest.NewTestServer(t, hubspottest.Options{})
	up := userpilottest.NewTestServer(t, userpilottest.Options{})
	dir := t.TempDir()
	cfgPath := writeTestFile(t, dir, "integration.yaml", syncTestConfig)
	export := writeTestFile(t, dir, "users.csv", "user_id,email\nu1,Ann@example.com\n")
	cliEnv(t, table, hs, up)
	if code, _, errOut := runCLI(t, "import", export, "--kind", "users", "--config", cfgPath); code != exitOK {
		t.Fatalf("import exit %d: %s", code, errOut)
	}
	ids := hs.SeedContacts(1, func(int) hubspottest.SeedRecord {
		return hubspottest.SeedRecord{Properties: map[string]string{"email": "ann@example.com", "firstname": "Ann"}, ModifiedAt: time.Now().Add(-time.Hour)}
	})
	hs.ResetRequests()
	up.ResetRequests()

	code, out, errOut := runCLI(t, "preview", "--user", "u1", "--user", "nobody@example.com", "--config", cfgPath)
	if code != exitOK {
		t.Fatalf("preview exit %d: %s", code, errOut)
	}
	for _, want := range []string{"nothing was written", "user u1", "match: would_link -> HubSpot " + ids[0], `first_name               = "Ann"`,
		"user nobody@example.com (not seen by pilotsync yet)", "match: not_found", "full sync estimate"} {
		if !strings.Contains(out, want) {
			t.Errorf("preview text lacks %q:\n%s", want, out)
		}
	}
	code, out, errOut = runCLI(t, "preview", "--json", "--user", "u1", "--config", cfgPath)
	if code != exitOK {
		t.Fatalf("preview --json exit %d: %s", code, errOut)
	}
	var res handler.PollResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("preview --json output %q: %v", out, err)
	}
	if res.Preview == nil || len(res.Preview.Records) != 1 || res.Preview.Records[0].Match.State != preview.MatchWouldLink {
		t.Errorf("preview --json %+v", res.Preview)
	}
	for _, r := range hs.Requests() {
		if r.Method != http.MethodGet && !strings.HasSuffix(r.Path, "/search") && !strings.HasSuffix(r.Path, "/batch/read") {
			t.Errorf("HubSpot saw a write: %s %s", r.Method, r.Path)
		}
	}
	if n := len(up.Requests()); n != 0 {
		t.Errorf("Userpilot saw %d requests", n)
	}
	if code, _, _ := runCLI(t, "preview", "--config", cfgPath); code != exitUsage {
		t.Errorf("preview with nobody: exit %d, want usage", code)
	}
}
