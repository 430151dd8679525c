// Package cause names why a job (or one object type of it) stopped, from the
// error value itself, where it is made: the engines record the cause in
// their reports and run records, and alerts read it there instead of
// matching error text.
package cause

import (
	"errors"
	"net/http"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/userpilot"
)

// Cause is why a job (or one object type of it) stopped: the part of a
// problem key after the job and object type.
type Cause string

// Causes of a stopped job. The first four need an admin at once; Other
// becomes a problem only when it lasts (an outage), since the next run
// retries from its checkpoint.
const (
	HubSpotAuth        Cause = "hubspot_auth"
	HubSpotDailyLimit  Cause = "hubspot_daily_limit"
	EnterpriseRequired Cause = "hubspot_enterprise_required"
	UserpilotAuth      Cause = "userpilot_auth"
	// StoreUnreachable: DynamoDB did not answer (a timeout, a refused
	// connection, a server fault), so nothing can be checkpointed: told at
	// once, since the failure emails themselves cannot record it.
	StoreUnreachable Cause = "dynamodb_unreachable"
	Other            Cause = "outage"
)

// hubspotOAuthEndpoint is the Endpoint of a *hubspot.APIError from the OAuth
// token refresh; HubSpot answers a revoked or unknown refresh token there
// with 400 (BAD_REFRESH_TOKEN), not 401.
const hubspotOAuthEndpoint = "oauth_token"

// Of returns why err stopped a job, from the typed errors of shared/hubspot
// and shared/userpilot anywhere in its chain (errors.Is/As, so wrapping does
// not matter): the custom events API refused for want of Enterprise,
// HubSpot's DAILY limit, HubSpot 401/403 (or a refused OAuth refresh),
// Userpilot 401/403. Any other error is Other: its wording is never
// matched. A nil err has no cause ("").
func Of(err error) Cause {
	var (
		hsAPI  *hubspot.APIError
		hsRate *hubspot.RateLimitError
		upAPI  *userpilot.APIError
	)
	switch {
	case err == nil:
		return ""
	case storeUnreachable(err): // store.go
		return StoreUnreachable
	case errors.Is(err, hubspot.ErrEnterpriseRequired):
		return EnterpriseRequired
	case errors.Is(err, hubspot.ErrDailyLimit):
		return HubSpotDailyLimit
	case errors.As(err, &hsRate):
		return Other // a burst limit the client's retries did not outlast
	case errors.Is(err, userpilot.ErrUnauthorized):
		return UserpilotAuth
	case errors.As(err, &hsAPI):
		if hsAPI.Status == http.StatusUnauthorized || hsAPI.Status == http.StatusForbidden ||
			(hsAPI.Endpoint == hubspotOAuthEndpoint && hsAPI.Status == http.StatusBadRequest) {
			return HubSpotAuth
		}
	case errors.As(err, &upAPI):
		if upAPI.Status == http.StatusUnauthorized || upAPI.Status == http.StatusForbidden {
			return UserpilotAuth
		}
	}
	return Other
}
