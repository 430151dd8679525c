package hubspottest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/pilotsync/pilotsync/shared/hubspot/internal/spectest"
)

// specRecorder is a testing.TB that keeps what CheckSpec reports.
type specRecorder struct {
	testing.TB
	errs     []string
	cleanups []func()
}

func (r *specRecorder) Helper()          {}
func (r *specRecorder) Log(...any)       {}
func (r *specRecorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *specRecorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestCheckSpecFindsNonConformingRequests: the check CheckSpec registers
// reports a body field the spec does not declare and a path it lacks, and
// passes a conforming request.
func TestCheckSpecFindsNonConformingRequests(t *testing.T) {
	if spectest.Revision() == "" {
		t.Skip("no HubSpot spec mirror: nothing to check against")
	}
	s := NewTestServer(t, Options{})
	send := func(method, path, body string) {
		req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+DefaultToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	rec := &specRecorder{TB: t}
	s.CheckSpec(rec)
	send(http.MethodPost, "/crm/v3/objects/contacts/batch/read", `{"inputs":[{"id":"1"}],"properties":["email"],"propertiesWithHistory":[]}`)
	for _, f := range rec.cleanups {
		f()
	}
	if len(rec.errs) != 0 {
		t.Fatalf("a conforming request was reported: %q", rec.errs)
	}

	send(http.MethodPost, "/crm/v3/objects/contacts/batch/read", `{"inputs":[{"id":"1"}],"properties":["email"],"propertiesWithHistory":[],"pilotsyncBogus":true}`)
	send(http.MethodGet, "/crm/v3/pilotsync-no-such-path", "")
	for _, f := range rec.cleanups {
		f()
	}
	var bogus, path bool
	for _, e := range rec.errs {
		bogus = bogus || strings.Contains(e, "pilotsyncBogus")
		path = path || strings.Contains(e, "pilotsync-no-such-path")
	}
	if !bogus || !path {
		t.Errorf("reports %q, want the undeclared field and the unknown path", rec.errs)
	}
}
