package notify

import (
	"strings"
	"testing"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity"
)

// TestAlertRedactionMatchesLogs: an address in an alert hashes exactly as in
// log lines and HubSpot errors (identity.Redact), so one person can be
// followed from the mail to the logs.
func TestAlertRedactionMatchesLogs(t *testing.T) {
	got := redact("contact Ann@Example.com already exists")
	h := identity.Redact("ann@example.com")
	if !strings.Contains(got, "email#"+h) || strings.Contains(got, "@") {
		t.Errorf("redact = %q, want email#%s", got, h)
	}
	if hs := hubspot.HashIdentity("Ann@Example.com"); hs != "h:"+h {
		t.Errorf("hubspot.HashIdentity = %q, want h:%s", hs, h)
	}
}
