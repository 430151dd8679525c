package hubspottest

import (
	"testing"

	"github.com/pilotsync/pilotsync/shared/hubspot/internal/spectest"
)

// CheckSpec makes t check, when it ends, that every request s received
// conforms to HubSpot's official OpenAPI descriptions
// (https://github.com/HubSpot/HubSpot-public-api-spec-collection): the path
// and method exist, query parameters are declared, and a body has every
// required field and no undeclared one. Without the local spec mirror
// (spectest.DefaultMirror or PILOTSYNC_HUBSPOT_SPEC_GIT) it logs that it
// skipped and checks nothing.
func (s *Server) CheckSpec(t testing.TB) {
	t.Helper()
	t.Cleanup(func() {
		reqs := s.Requests()
		out := make([]spectest.Request, 0, len(reqs))
		for _, r := range reqs {
			out = append(out, spectest.Request{Method: r.Method, Path: r.Path, Query: r.Query,
				ContentType: r.Header.Get("Content-Type"), Body: r.Body})
		}
		spectest.Check(t, out...)
	})
}
