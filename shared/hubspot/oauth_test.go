package hubspot_test

import (
	"context"
	"testing"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

// TestOAuthTokenEndpoints: refreshes go to /oauth/2026-03/token by default and to
// /oauth/v1/token when selected, and the client reads snake_case and camelCase answers.
func TestOAuthTokenEndpoints(t *testing.T) {
	for _, tc := range []struct {
		name     string
		api      string
		camel    bool
		wantPath string
	}{
		{"default snake_case", "", false, "/oauth/2026-03/token"},
		{"2026-03 camelCase", hubspot.OAuthTokenAPI202603, true, "/oauth/2026-03/token"},
		{"v1", hubspot.OAuthTokenAPIV1, false, "/oauth/v1/token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb := hubspottest.NewTestServer(t, fast(hubspottest.Options{RequireOAuth: true, OAuthCamelCase: tc.camel}))
			opts := []hubspot.Option{hubspot.WithBaseURL(sb.URL), hubspot.WithLimits(fastLimits), hubspot.WithOAuth(hubspot.OAuthConfig{
				ClientID: hubspottest.DefaultClientID, ClientSecret: hubspottest.DefaultClientSecret, RefreshToken: hubspottest.DefaultRefreshToken})}
			if tc.api != "" {
				opts = append(opts, hubspot.WithOAuthTokenAPI(tc.api))
			}
			c, err := hubspot.NewClient(opts...)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.ListProperties(context.Background(), "contacts"); err != nil {
				t.Fatalf("ListProperties after a refresh: %v", err)
			}
			reqs := sb.RequestsTo(hubspottest.EndpointOAuth)
			if len(reqs) != 1 || reqs[0].Path != tc.wantPath || reqs[0].Status != 200 {
				t.Fatalf("token requests = %+v, want one 200 to %s", reqs, tc.wantPath)
			}
			checkSpec(t, sb)
		})
	}
}
