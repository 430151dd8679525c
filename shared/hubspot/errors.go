package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/pilotsync/pilotsync/shared/identity"
)

// ErrNotFound matches (errors.Is) a 404 from HubSpot and a record that does not exist.
var ErrNotFound = errors.New("hubspot: not found")

// ErrDailyLimit matches (errors.Is) a *RateLimitError for the account's DAILY limit: HubSpot
// refuses further calls until the account's midnight, so the caller should stop and alert.
var ErrDailyLimit = errors.New("hubspot: daily api limit reached")

// ErrBodyTooLarge is returned before sending a search whose body would exceed HubSpot's limit.
var ErrBodyTooLarge = errors.New("hubspot: search body too large")

// Rate-limit policy names found in 429 bodies (https://developers.hubspot.com/docs/api/usage-details).
const (
	PolicyTenSecondly = "TEN_SECONDLY_ROLLING"
	PolicySecondly    = "SECONDLY"
	PolicyDaily       = "DAILY"
)

// FieldError is one entry of the "errors" array of a HubSpot error body.
type FieldError struct {
	Message string
	Code    string // e.g. INVALID_INTEGER
	// Property is the first context.propertyName, when HubSpot names one.
	Property string
	// Context is the raw context object (e.g. "propertyName", "ids").
	Context map[string][]string
}

// APIError is a non-2xx answer from HubSpot other than a rate limit.
type APIError struct {
	Status        int
	Category      string // e.g. VALIDATION_ERROR, OBJECT_NOT_FOUND
	Message       string // emails redacted
	CorrelationID string
	Errors        []FieldError
	// Endpoint names the client call ("batch_update", "search", ...).
	Endpoint string
}

// Error describes the failed call: status, category, message and correlation id.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "hubspot: %s: status %d", e.Endpoint, e.Status)
	if e.Category != "" {
		fmt.Fprintf(&b, " %s", e.Category)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.CorrelationID != "" {
		fmt.Fprintf(&b, " (correlation id %s)", e.CorrelationID)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) true for a 404.
func (e *APIError) Is(target error) bool {
	return target == ErrNotFound && e.Status == 404
}

// RateLimitError is a 429 from HubSpot (after retries ran out, or at once for DAILY), or a call
// refused locally because the daily limit was reached.
type RateLimitError struct {
	Policy     string // TEN_SECONDLY_ROLLING, SECONDLY, DAILY
	RetryAfter time.Duration
	Message    string
	// Local is true when the client refused the call without contacting HubSpot.
	Local bool
}

// Error names the rate-limit policy and how long to wait.
func (e *RateLimitError) Error() string {
	s := "hubspot: rate limited"
	if e.Policy != "" {
		s += " (" + e.Policy + ")"
	}
	if e.Local {
		s += ": call not sent"
	}
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(", retry after %s", e.RetryAfter)
	}
	return s
}

// Is makes errors.Is(err, ErrDailyLimit) true for the DAILY policy.
func (e *RateLimitError) Is(target error) bool {
	return target == ErrDailyLimit && e.Policy == PolicyDaily
}

// retryableStatus lists the statuses HubSpot documents as transient (https://developers.hubspot.com/docs/api/usage-details).
var retryableStatus = map[int]bool{423: true, 429: true, 477: true, 500: true, 502: true, 503: true, 504: true, 521: true, 523: true, 524: true}

// IsRetryable reports whether err is transient: a non-daily rate limit, a transient status, a
// network error, or a "nothing written" batch result. Context cancellation is not retryable.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return rl.Policy != PolicyDaily
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return retryableStatus[ae.Status]
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true
	}
	return errors.Is(err, errNetwork)
}

// errNetwork marks transport failures (connection reset, EOF mid-body).
var errNetwork = errors.New("network error")

var emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)

// redactEmails replaces email addresses in s with a short hash, so HubSpot messages such as
// "contact x@y.com already exists" can go into errors and logs.
func redactEmails(s string) string {
	return emailRE.ReplaceAllStringFunc(s, HashIdentity)
}

// HashIdentity returns a short, stable hash of an identity (email, token) for logs and errors:
// identity.Redact's hash, the one every log line and alert uses, behind "h:".
func HashIdentity(v string) string { return "h:" + identity.Redact(v) }
