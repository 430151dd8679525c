package config

// HubSpot OAuth token endpoints (hubspot.oauth_token_api): the 2026-03 OAuth
// API (https://developers.hubspot.com/docs/api-reference/2026-03/auth/oauth/tokens)
// or the v1 endpoint, which HubSpot retires on 2027-02-16.
const (
	OAuthTokenAPI202603 = "2026-03"
	OAuthTokenAPIV1     = "v1"
	// DefaultOAuthTokenAPI is used when hubspot.oauth_token_api is left out.
	DefaultOAuthTokenAPI = OAuthTokenAPI202603
)
