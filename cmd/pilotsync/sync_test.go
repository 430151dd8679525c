package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/handler"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
	"github.com/pilotsync/pilotsync/shared/inbound"
	"github.com/pilotsync/pilotsync/shared/profileimport"
	"github.com/pilotsync/pilotsync/shared/store/storetest"
	"github.com/pilotsync/pilotsync/shared/userpilot/userpilottest"
)

const syncTestConfig = `
mapping:
  users:
    inbound:
      - hubspot: firstname
        userpilot: first_name
  companies:
    enabled: false
`

// TestImportThenSync imports a users export with the CLI, then runs
// "pilotsync sync" and "pilotsync sync --incremental" against DynamoDB Local
// and the sandboxes.
func TestImportThenSync(t *testing.T) {
	table := storetest.FreshTable(t).Table()
	hs := hubspottest.NewTestServer(t, hubspottest.Options{})
	up := userpilottest.NewTestServer(t, userpilottest.Options{})
	dir := t.TempDir()
	cfgPath := writeTestFile(t, dir, "integration.yaml", syncTestConfig)
	export := writeTestFile(t, dir, "users.csv", "user_id,email,plan\nu1,Ann@example.com,pro\nu2,bob@example.com,free\nu3,nobody@example.com,free\n,x@example.com,\n")
	cliEnv(t, table, hs, up)

	code, out, errOut := runCLI(t, "import", export, "--kind", "users", "--config", cfgPath, "--as-of", "2026-11-01T00:00:00Z")
	if code != exitOK {
		t.Fatalf("import exit %d: %s", code, errOut)
	}
	var ir profileimport.Result
	if err := json.Unmarshal([]byte(out), &ir); err != nil {
		t.Fatalf("import output %q: %v", out, err)
	}
	if ir.Rows != 4 || ir.Created != 3 || ir.Bad != 1 || len(ir.BadRows) != 1 || ir.BadRows[0].Line != 5 {
		t.Errorf("import result %+v, want 4 rows, 3 created, bad line 5", ir)
	}

	hs.SeedContacts(2, func(i int) hubspottest.SeedRecord {
		return hubspottest.SeedRecord{Properties: map[string]string{"email": []string{"ann@example.com", "BOB@example.com"}[i], "firstname": []string{"Ann", "Bob"}[i]},
			ModifiedAt: time.Now().Add(-time.Hour)}
	})
	code, out, errOut = runCLI(t, "sync", "--config", cfgPath)
	if code != exitOK {
		t.Fatalf("sync exit %d: %s\n%s", code, errOut, out)
	}
	var res handler.PollResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("sync output %q: %v", out, err)
	}
	if res.Status != inbound.StatusComplete || res.Inbound.Totals.Linked != 2 || res.Inbound.Totals.Written != 2 {
		t.Errorf("sync result %+v, want complete with 2 linked and written", res.Inbound)
	}
	if res.Inbound.APICalls["hubspot.list"] != 1 || res.Inbound.APICalls["userpilot.identify"] != 2 {
		t.Errorf("api calls %v, want 1 list and 2 identify", res.Inbound.APICalls)
	}
	if !strings.Contains(errOut, "inbound users: 2 of 2 records (100%)") {
		t.Errorf("sync progress on stderr lacks the users' count:\n%s", errOut)
	}
	if u, ok := up.User("u2"); !ok || u.Metadata["first_name"] != "Bob" {
		t.Errorf("userpilot u2 = %+v, want first_name Bob", u)
	}

	code, out, errOut = runCLI(t, "sync", "--incremental", "--config", cfgPath)
	if code != exitOK || !strings.Contains(out, `"mode": "incremental"`) || !strings.Contains(errOut, "complete") {
		t.Errorf("incremental sync exit %d:\n%s\n%s", code, out, errOut)
	}

	if code, _, errOut = runCLI(t, "import", export, "--kind", "nope", "--config", cfgPath); code != exitUsage || !strings.Contains(errOut, "unknown kind") {
		t.Errorf("bad kind: exit %d, %s", code, errOut)
	}
}
