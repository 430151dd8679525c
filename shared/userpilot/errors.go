package userpilot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// ErrUnauthorized matches (errors.Is) an *APIError with status 401: the API
// key is wrong or belongs to another environment.
var ErrUnauthorized = errors.New("userpilot: unauthorized")

// ErrorDetail is one entry of Userpilot's error body
// {"errors":[{"error","error_code","message","details"}]}.
type ErrorDetail struct {
	Error     string `json:"error"`
	ErrorCode string `json:"error_code"`
	Message   string `json:"message"`
	Details   string `json:"details"`
}

// APIError is a non-2xx answer from Userpilot. 400 means bad input and is
// permanent (IsPermanent); 5xx is retryable (IsRetryable).
type APIError struct {
	// Endpoint is the stable endpoint name ("identify", "users_bulk", ...).
	Endpoint string
	// Status is the HTTP status code.
	Status int
	// Errors is the parsed error body (empty when the body was not JSON).
	Errors []ErrorDetail
}

// Error describes the failure by status and error codes. Details are left out
// because Userpilot may echo the input there (which can hold emails).
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "userpilot: %s: status %d", e.Endpoint, e.Status)
	for _, d := range e.Errors {
		b.WriteString(": ")
		if d.ErrorCode != "" {
			b.WriteString(d.ErrorCode)
			if d.Message != "" {
				b.WriteString(" ")
			}
		}
		b.WriteString(d.Message)
	}
	return b.String()
}

// Is lets errors.Is(err, ErrUnauthorized) match a 401.
func (e *APIError) Is(target error) bool {
	return target == ErrUnauthorized && e.Status == http.StatusUnauthorized
}

// RateLimitError is a 429 answer. RetryAfter is zero when Userpilot sent no
// Retry-After header.
type RateLimitError struct {
	APIError
	RetryAfter time.Duration
}

// Error describes the rate limit.
func (e *RateLimitError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("%s (rate limited, retry after %s)", e.APIError.Error(), e.RetryAfter)
	}
	return e.APIError.Error() + " (rate limited)"
}

// Unwrap exposes the embedded *APIError to errors.As.
func (e *RateLimitError) Unwrap() error { return &e.APIError }

// ValidationError is input the client refused to send (a missing id, a
// nested metadata value). It is permanent: retrying cannot fix it.
type ValidationError struct {
	// Field locates the problem, e.g. `users[3].metadata["tags"]`. It names
	// metadata keys and record positions, never ids or values.
	Field string
	// Reason says what is wrong.
	Reason string
}

// Error describes the invalid field.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("userpilot: invalid %s: %s", e.Field, e.Reason)
}

// JobError reports a bulk job that ended with status "failed".
type JobError struct {
	Job Job
}

// Error names the job and how far it got.
func (e *JobError) Error() string {
	return fmt.Sprintf("userpilot: bulk job %s failed after %d of %d rows", e.Job.ID, e.Job.CompletedRows, e.Job.TotalRows)
}

// errNoJob is returned (wrapped, retryable) when a bulk submission answered
// 2xx without a job id.
var errNoJob = errors.New("bulk submission answered without a job id")

// IsRetryable reports whether the call may succeed if repeated later: 429,
// 5xx, 408, 409 (a bulk job was running), network errors and timeouts
// other than the caller's own context ending. Writes to Userpilot are
// upserts, so repeating one that already landed is harmless.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	if isTransportError(err) || errors.Is(err, errNoJob) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false // the caller's own context ended
	}
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return true
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return retryableStatus(ae.Status)
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		return false
	}
	var je *JobError
	if errors.As(err, &je) {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// IsPermanent reports whether repeating the call unchanged can never
// succeed: a 4xx other than 408, 409 and 429 (400 bad input, 401 bad key,
// 404 unknown job), or input the client refused to send. A failed bulk job
// (*JobError) is neither permanent nor retryable: the cause is not known.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		return true
	}
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status >= 400 && ae.Status < 500 && !retryableStatus(ae.Status)
	}
	return false
}

func retryableStatus(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusRequestTimeout ||
		status == http.StatusConflict || status >= 500
}

// transportError marks a failure to get any HTTP answer (dropped
// connection, refused, reset, timeout).
type transportError struct{ err error }

func (e *transportError) Error() string { return "transport: " + e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

func isTransportError(err error) bool {
	var te *transportError
	return errors.As(err, &te)
}
