package config_test

import (
	"strings"
	"testing"

	"github.com/pilotsync/pilotsync/shared/config"
)

// TestOAuthTokenAPI: refreshes default to the 2026-03 token endpoint; v1 stays selectable;
// anything else is a validation error naming the key.
func TestOAuthTokenAPI(t *testing.T) {
	for _, tc := range []struct {
		yaml, want, wantErr string
	}{
		{"", config.OAuthTokenAPI202603, ""},
		{"hubspot: {oauth_token_api: v1}\n", config.OAuthTokenAPIV1, ""},
		{"hubspot: {oauth_token_api: v2}\n", "", "hubspot.oauth_token_api"},
	} {
		cfg, err := config.Parse("integration.yaml", []byte(minimal+tc.yaml))
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err = %v, want one naming %s", tc.yaml, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.yaml, err)
		case cfg.HubSpot.OAuthTokenAPI != tc.want:
			t.Errorf("%q: oauth_token_api = %q, want %q", tc.yaml, cfg.HubSpot.OAuthTokenAPI, tc.want)
		}
	}
}
