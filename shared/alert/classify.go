package alert

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/inbound"
	"github.com/pilotsync/pilotsync/shared/userpilot"
)

// Cause is why a job (or one object type of it) stopped: the part of a
// problem key after the job and object type.
type Cause string

// Causes of a stopped job. The first four need an admin at once; CauseOther
// becomes a problem only when it lasts (an outage), since the next run
// retries from its checkpoint.
const (
	CauseHubSpotAuth        Cause = "hubspot_auth"
	CauseHubSpotDailyLimit  Cause = "hubspot_daily_limit"
	CauseEnterpriseRequired Cause = "hubspot_enterprise_required"
	CauseUserpilotAuth      Cause = "userpilot_auth"
	CauseOther              Cause = "outage"
)

// Error texts of the clients, for reports that carry an error as text only
// (a inbound.Report decoded from JSON, run records). They follow
// hubspot.APIError, hubspot.RateLimitError and userpilot.APIError's Error
// methods; errors held as values are classified by type (ClassifyError).
var (
	hubspotStatusRE   = regexp.MustCompile(`hubspot: [^:]*: status (\d{3})`)
	userpilotStatusRE = regexp.MustCompile(`userpilot: [^:]*: status (\d{3})`)
)

// hubspotOAuthEndpoint is the Endpoint of a *hubspot.APIError from the OAuth
// token refresh; HubSpot answers a revoked or unknown refresh token there
// with 400 (BAD_REFRESH_TOKEN), not 401.
const hubspotOAuthEndpoint = "oauth_token"

// ClassifyError returns why err stopped a job, from the typed errors of
// shared/hubspot and shared/userpilot anywhere in its chain (errors.Is/As, so
// wrapping does not matter): the custom events API refused for want of
// Enterprise, HubSpot's DAILY limit, HubSpot 401/403 (or a refused OAuth
// refresh), Userpilot 401/403. Any other error value is CauseOther, typed or
// not: its wording is never matched. Only text without its error value
// (a run record) goes through ClassifyText. A nil err has no cause ("").
func ClassifyError(err error) Cause {
	var (
		hsAPI  *hubspot.APIError
		hsRate *hubspot.RateLimitError
		upAPI  *userpilot.APIError
	)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, hubspot.ErrEnterpriseRequired):
		return CauseEnterpriseRequired
	case errors.Is(err, hubspot.ErrDailyLimit):
		return CauseHubSpotDailyLimit
	case errors.As(err, &hsRate):
		return CauseOther // a burst limit the client's retries did not outlast
	case errors.Is(err, userpilot.ErrUnauthorized):
		return CauseUserpilotAuth
	case errors.As(err, &hsAPI):
		if hsAPI.Status == http.StatusUnauthorized || hsAPI.Status == http.StatusForbidden ||
			(hsAPI.Endpoint == hubspotOAuthEndpoint && hsAPI.Status == http.StatusBadRequest) {
			return CauseHubSpotAuth
		}
	case errors.As(err, &upAPI):
		if upAPI.Status == http.StatusUnauthorized || upAPI.Status == http.StatusForbidden {
			return CauseUserpilotAuth
		}
	}
	return CauseOther
}

// classifyObject returns why an inbound object type stopped: by its error
// value when the report holds one, by its text otherwise.
func classifyObject(o inbound.ObjectReport) Cause {
	if o.Err != nil {
		return ClassifyError(o.Err)
	}
	return ClassifyText(o.Error)
}

// ClassifyText classifies an error by its text, for reports that keep only
// the text (prefer ClassifyError when the error value is at hand): HubSpot 401/403 (a revoked token or a missing scope), HubSpot's
// DAILY rate limit, custom events without Enterprise, Userpilot 401/403 (a
// wrong key or environment); anything else is CauseOther.
func ClassifyText(s string) Cause {
	switch {
	case s == "":
		return ""
	case strings.Contains(s, "custom events need an Enterprise"):
		return CauseEnterpriseRequired
	case strings.Contains(s, "rate limited ("+hubspot.PolicyDaily+")"), strings.Contains(s, "daily api limit reached"):
		return CauseHubSpotDailyLimit
	case strings.Contains(s, "userpilot: unauthorized"):
		return CauseUserpilotAuth
	}
	if m := hubspotStatusRE.FindStringSubmatch(s); m != nil && (m[1] == "401" || m[1] == "403") {
		return CauseHubSpotAuth
	}
	if m := userpilotStatusRE.FindStringSubmatch(s); m != nil && (m[1] == "401" || m[1] == "403") {
		return CauseUserpilotAuth
	}
	return CauseOther
}

// RecordCategory groups permanent per-record failures into one problem each.
type RecordCategory string

// Record failure categories (the last part of a record problem key).
const (
	RecordInvalid   RecordCategory = "invalid"   // a value Userpilot refuses (400, 422, client-side validation)
	RecordForbidden RecordCategory = "forbidden" // 403 for this record
	RecordNotFound  RecordCategory = "not_found" // 404
	RecordTooLarge  RecordCategory = "too_large" // 413
	RecordBulkJob   RecordCategory = "bulk_job"  // a bulk identify job that failed
	RecordOther     RecordCategory = "other"
)

// recordCategories lists every category, so a clean run can resolve them all.
var recordCategories = []RecordCategory{RecordInvalid, RecordForbidden, RecordNotFound, RecordTooLarge, RecordBulkJob, RecordOther}

// ClassifyRecordFailure returns the category of a per-record failure reason
// (inbound.Failure.Reason, the Userpilot client's error text).
func ClassifyRecordFailure(reason string) RecordCategory {
	if strings.Contains(reason, "userpilot: invalid ") {
		return RecordInvalid
	}
	if strings.Contains(reason, "bulk job") {
		return RecordBulkJob
	}
	if m := userpilotStatusRE.FindStringSubmatch(reason); m != nil {
		switch status, _ := strconv.Atoi(m[1]); status {
		case http.StatusBadRequest, http.StatusUnprocessableEntity:
			return RecordInvalid
		case http.StatusForbidden:
			return RecordForbidden
		case http.StatusNotFound:
			return RecordNotFound
		case http.StatusRequestEntityTooLarge:
			return RecordTooLarge
		}
	}
	return RecordOther
}
