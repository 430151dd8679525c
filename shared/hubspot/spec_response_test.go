package hubspot

import (
	"testing"

	"github.com/pilotsync/pilotsync/shared/hubspot/internal/spectest"
)

// TestResponseFieldsExistInSpec: every JSON field the client decodes from an answer is
// declared by the spec's response schema of that call, on both API versions.
func TestResponseFieldsExistInSpec(t *testing.T) {
	type results[T any] struct {
		Results []T     `json:"results"`
		Paging  *paging `json:"paging"`
	}
	for _, v := range []string{APIVersionV3, APIVersion202603} {
		t.Run(v, func(t *testing.T) {
			obj := func(rest ...string) string { return apiPath(v, "objects", append([]string{"contacts"}, rest...)...) }
			props := apiPath(v, "properties", "contacts")
			events := apiPath(v, "events", "event-definitions")
			checks := []struct {
				method, path string
				into         any
				allow        []string
			}{
				{"POST", obj("search"), searchResponse{}, nil},
				{"GET", obj(), listResponse{}, nil},
				{"POST", obj("batch", "read"), batchResponse{}, nil},
				{"POST", obj("batch", "update"), batchResponse{}, nil},
				{"GET", props, struct {
					Results []propertyJSON `json:"results"`
				}{}, nil},
				{"POST", props, propertyJSON{}, nil},
				{"GET", props + "/groups", struct {
					Results []PropertyGroup `json:"results"`
				}{}, nil},
				{"POST", props + "/groups", PropertyGroup{}, nil},
				{"GET", events, results[eventDefinitionJSON]{}, nil},
				{"POST", events, eventDefinitionJSON{}, nil},
				{"POST", "/integrators/timeline/v3/events/batch/create", timelineBatchResponse{}, nil},
				{"POST", "/integrators/timeline/2026-03/events/batch", timelineBatchResponse{}, nil},
				// The camelCase names are HubSpot's documented alternative spelling, read as a
				// fallback; the spec gives snake_case.
				{"POST", "/oauth/2026-03/token", oauthTokenResponse{}, []string{"accessToken", "refreshToken", "expiresIn"}},
				{"POST", "/oauth/v1/token", oauthTokenResponse{}, []string{"accessToken", "refreshToken", "expiresIn"}},
			}
			for _, c := range checks {
				spectest.CheckResponseType(t, c.method, c.path, c.into, c.allow...)
			}
		})
	}
}
