package hubspottest_test

import (
	"testing"

	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

// TestFaultMax: the shared Fault's Max ends a fault after that many hits, here as in the
// Userpilot sandbox, and Status sets the injected 5xx.
func TestFaultMax(t *testing.T) {
	s := hubspottest.NewTestServer(t, hubspottest.Options{})
	s.SetFault(hubspottest.EndpointProperties, hubspottest.Fault{Rate5xx: 1, Max: 2, Status: 503})
	for i, want := range []int{503, 503, 200, 200} {
		if got := call(t, s, "GET", "/crm/v3/properties/contacts", nil).status; got != want {
			t.Errorf("request %d: status %d, want %d", i, got, want)
		}
	}
}
