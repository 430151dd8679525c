// Package userpilot is the client for Userpilot's write API: identify users
// and companies one at a time or in bulk jobs, and track events.
//
// Every call carries `Authorization: Token <key>`, `X-API-Version: 2020-09-22`
// and a JSON content type. Calls are paced to Userpilot's 600 requests per
// minute per token (shared by every Client in the process that uses the same
// key and host), and retried with jittered backoff on 429, 5xx and network
// errors while ctx allows. Writes are upserts, so repeating one that already
// landed is harmless. Errors are typed: *APIError, *RateLimitError,
// *ValidationError, *JobError; IsRetryable and IsPermanent classify them.
//
// Userpilot has no read API for user or company properties (https://docs.userpilot.com/api-references/http-api).
package userpilot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/pilotsync/pilotsync/shared/internal/sleep"
)

// Userpilot API facts, from Userpilot's public API docs (https://docs.userpilot.com/api-references/http-api;
// limits: https://docs.userpilot.com/article/195-identify-users-and-track-api).
const (
	// APIVersion is sent as X-API-Version on every call.
	APIVersion = "2020-09-22"
	// DefaultBaseURL is the US write API host.
	DefaultBaseURL = "https://analytex.userpilot.io"
	// EUBaseURL is the EU write API host.
	EUBaseURL = "https://analytex-eu.userpilot.io"
	// RateLimit requests per RateWindow per environment token; 429 above it.
	RateLimit = 600
	// RateWindow is the window RateLimit counts over.
	RateWindow = time.Minute
	// MaxBulkRecords is the most records one bulk identify request may hold.
	MaxBulkRecords = 10000
	// StagingKeyPrefix starts every staging environment token.
	StagingKeyPrefix = "STG-"
)

// Environment names, as in shared/config.
const (
	EnvProduction = "production"
	EnvStaging    = "staging"
)

// Stable endpoint names, used in Stats, errors and logs (and by the sandbox).
const (
	EndpointIdentify          = "identify"
	EndpointCompaniesIdentify = "companies_identify"
	EndpointUsersBulk         = "users_bulk"
	EndpointCompaniesBulk     = "companies_bulk"
	EndpointBackgroundJobs    = "background_jobs"
	EndpointTrack             = "track"
)

// Company key names accepted by WithCompanyKey.
const (
	// CompanyKeyBoth (the default) sends "id" and "company_id" with the
	// same value.
	CompanyKeyBoth      = "both"
	CompanyKeyID        = "id"
	CompanyKeyCompanyID = "company_id"
)

const (
	defaultTimeout      = 30 * time.Second
	defaultMaxRetries   = 6
	defaultBackoffBase  = 500 * time.Millisecond
	defaultBackoffMax   = 30 * time.Second
	defaultPollMin      = time.Second
	defaultPollMax      = 15 * time.Second
	defaultConflictWait = 30 * time.Minute
	// paceMarginDivisor keeps 1% of the budget (at least one request) in
	// reserve against requests the server counted that we cannot see
	// (another process with the same token, a retry of a dropped call).
	paceMarginDivisor = 100
	// paceBurstDivisor sets the token bucket's burst to 5% of the limit
	// (30 of 600).
	paceBurstDivisor = 20
	// maxErrorBody bounds how much of an error body is read.
	maxErrorBody = 64 << 10
)

// Client calls Userpilot's write API. It is safe for concurrent use; build
// one per cold start and share it.
type Client struct {
	base         *url.URL
	key          string
	httpClient   *http.Client
	timeout      time.Duration
	logger       *slog.Logger
	companyKey   string
	clear        any // what a nil identify value is sent as: nil (JSON null) or ""
	maxRetries   int
	backoffBase  time.Duration
	backoffMax   time.Duration
	pollMin      time.Duration
	pollMax      time.Duration
	conflictWait time.Duration
	rateN        int
	ratePer      time.Duration
	pacer        *pacer
	bulkSem      chan struct{}
	stats        statsCounter
}

// Option configures a Client.
type Option func(*Client) error

// WithBaseURL sets the API host: DefaultBaseURL (US), EUBaseURL, an
// Enterprise host, or a sandbox.
func WithBaseURL(raw string) Option {
	return func(c *Client) error {
		u, err := url.Parse(strings.TrimRight(raw, "/"))
		if err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("userpilot: base url %q is not an absolute url", raw)
		}
		c.base = u
		return nil
	}
}

// WithHTTPClient uses hc for every request. Its Timeout is used as is
// (WithTimeout applies only to the default client).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("userpilot: nil http client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithTimeout sets the per-attempt HTTP timeout of the default client
// (default 30s).
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d <= 0 {
			return fmt.Errorf("userpilot: timeout %s must be positive", d)
		}
		c.timeout = d
		return nil
	}
}

// WithCompanyKey names the company inside identify's "company" object.
// Userpilot's docs disagree: the identify guide says the object "must have
// at least an id field"
// (https://docs.userpilot.com/api-references/real-time/identify-user),
// the endpoint reference and its OpenAPI description require "company_id"
// (https://docs.userpilot.com/api-references/endpoints/realtime/identify-user),
// and the service answers 202 whatever is sent. So the default,
// CompanyKeyBoth, sends both keys with the same value, which links the
// company whichever one the service reads; CompanyKeyID or
// CompanyKeyCompanyID send only that key, an override for an account where
// the other one is known to do harm. Bulk identify always uses the
// top-level "company_id", which is unambiguous.
func WithCompanyKey(key string) Option {
	return func(c *Client) error {
		switch key {
		case CompanyKeyBoth, CompanyKeyID, CompanyKeyCompanyID:
			c.companyKey = key
			return nil
		case "":
			return nil
		}
		return fmt.Errorf("userpilot: company key %q must be %q, %q or %q", key, CompanyKeyBoth, CompanyKeyID, CompanyKeyCompanyID)
	}
}

// WithLogger sets the logger (default: discard). Logs carry endpoint
// names, statuses, counts and job ids; never keys, user ids or emails.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) error {
		if l != nil {
			c.logger = l
		}
		return nil
	}
}

// WithMaxRetries sets how many times a failed retryable call is repeated
// (default 6; 0 disables retries).
func WithMaxRetries(n int) Option {
	return func(c *Client) error {
		if n < 0 {
			return fmt.Errorf("userpilot: max retries %d must not be negative", n)
		}
		c.maxRetries = n
		return nil
	}
}

// WithBackoff sets the first and the largest retry delay (defaults 500ms and
// 30s). Each delay is drawn at random up to an exponentially growing cap
// ("full jitter").
func WithBackoff(base, max time.Duration) Option {
	return func(c *Client) error {
		if base <= 0 || max < base {
			return fmt.Errorf("userpilot: backoff %s..%s is not a valid range", base, max)
		}
		c.backoffBase, c.backoffMax = base, max
		return nil
	}
}

// WithJobPolling sets the first and the largest interval between polls of a
// running bulk job (defaults 1s and 15s; the interval grows by half each
// poll), and how long a bulk submission waits for another job to finish
// when answered 409 (default 30m; ctx may end it sooner).
func WithJobPolling(min, max, conflictWait time.Duration) Option {
	return func(c *Client) error {
		if min <= 0 || max < min || conflictWait <= 0 {
			return fmt.Errorf("userpilot: job polling %s..%s, conflict wait %s is not valid", min, max, conflictWait)
		}
		c.pollMin, c.pollMax, c.conflictWait = min, max, conflictWait
		return nil
	}
}

// WithRateLimit overrides the pacing limit (default RateLimit per
// RateWindow): for accounts with another limit and for tests.
func WithRateLimit(n int, per time.Duration) Option {
	return func(c *Client) error {
		if n <= 0 || per <= 0 {
			return fmt.Errorf("userpilot: rate limit %d per %s is not valid", n, per)
		}
		c.rateN, c.ratePer = n, per
		return nil
	}
}

// NewClient returns a client for the environment that apiKey belongs to.
func NewClient(apiKey string, opts ...Option) (*Client, error) {
	if strings.TrimSpace(apiKey) == "" {
		return nil, errors.New("userpilot: empty api key")
	}
	base, _ := url.Parse(DefaultBaseURL)
	c := &Client{
		base:         base,
		key:          apiKey,
		timeout:      defaultTimeout,
		logger:       slog.New(slog.DiscardHandler),
		companyKey:   CompanyKeyBoth,
		maxRetries:   defaultMaxRetries,
		backoffBase:  defaultBackoffBase,
		backoffMax:   defaultBackoffMax,
		pollMin:      defaultPollMin,
		pollMax:      defaultPollMax,
		conflictWait: defaultConflictWait,
		rateN:        RateLimit,
		ratePer:      RateWindow,
		bulkSem:      make(chan struct{}, 1),
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if c.httpClient == nil {
		c.httpClient = &http.Client{Timeout: c.timeout}
	}
	c.pacer = sharedPacer(c.base.String(), apiKey, c.rateN, c.ratePer)
	return c, nil
}

// Environment reports which Userpilot environment the client's key belongs
// to: EnvStaging for keys starting with "STG-", else EnvProduction.
func (c *Client) Environment() string { return KeyEnvironment(c.key) }

// KeyEnvironment reports the environment an API key belongs to: EnvStaging
// for keys starting with "STG-" (https://docs.userpilot.com/api-references/http-api), else EnvProduction.
func KeyEnvironment(apiKey string) string {
	if strings.HasPrefix(apiKey, StagingKeyPrefix) {
		return EnvStaging
	}
	return EnvProduction
}

// BaseURL returns the API host the client calls.
func (c *Client) BaseURL() string { return c.base.String() }

// pacer keeps one token's requests under the limit for every caller
// sharing it. Two mechanisms:
//
//   - a sliding window over what the server can have counted: a request may
//     start only while fewer than the budget are in flight or finished
//     within the last window. Because a request is admitted by the server
//     somewhere between its start and its end, this can never exceed the
//     server's sliding (or fixed) window, however long requests take in
//     transit, and it sustains nearly the whole limit;
//   - a token bucket at the limit's rate with a small burst, so the budget is
//     spread over the window rather than spent in one burst (in case the
//     server's limiter is a bucket).
//
// After a 429 with Retry-After every caller holds off until then.
type pacer struct {
	limiter *rate.Limiter
	budget  int
	window  time.Duration

	mu       sync.Mutex
	inflight int
	ends     []time.Time // finish times within the last window, ascending
	changed  chan struct{}
	until    time.Time
}

var (
	pacersMu sync.Mutex
	pacers   = map[string]*pacer{}
)

// sharedPacer returns the process-wide pacer for (host, token, limit):
// the limit is per token, so clients sharing a token share the budget.
// The token is hashed so the map holds no key.
func sharedPacer(base, key string, n int, per time.Duration) *pacer {
	sum := sha256.Sum256([]byte(key))
	id := fmt.Sprintf("%s|%s|%d|%s", base, hex.EncodeToString(sum[:8]), n, per)
	pacersMu.Lock()
	defer pacersMu.Unlock()
	if p, ok := pacers[id]; ok {
		return p
	}
	p := &pacer{
		limiter: rate.NewLimiter(rate.Limit(float64(n)/per.Seconds()), max(1, n/paceBurstDivisor)),
		budget:  n - max(1, n/paceMarginDivisor),
		window:  per,
		changed: make(chan struct{}),
	}
	p.budget = max(p.budget, 1)
	pacers[id] = p
	return p
}

// acquire waits for a slot; the caller must call release when the request
// has finished (answered or failed).
func (p *pacer) acquire(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	for {
		p.mu.Lock()
		now := time.Now()
		i := 0
		for i < len(p.ends) && !p.ends[i].After(now.Add(-p.window)) {
			i++
		}
		p.ends = p.ends[i:]
		var wait time.Duration
		var changed <-chan struct{}
		switch {
		case now.Before(p.until):
			wait = p.until.Sub(now)
		case p.inflight+len(p.ends) < p.budget:
			p.inflight++
			p.mu.Unlock()
			// Reserve rather than Wait: Wait gives up early when the delay
			// would pass ctx's deadline, which callers could not tell from
			// a real failure.
			r := p.limiter.Reserve()
			if err := sleep.For(ctx, r.Delay()); err != nil {
				r.Cancel()
				p.release()
				return time.Since(start), err
			}
			return time.Since(start), nil
		case len(p.ends) > 0:
			wait = p.ends[0].Add(p.window).Sub(now)
			changed = p.changed
		default:
			changed = p.changed // every slot is in flight: wait for one to end
			wait = p.window
		}
		p.mu.Unlock()
		if err := sleep.Until(ctx, max(wait, time.Millisecond), changed); err != nil {
			return time.Since(start), err
		}
	}
}

func (p *pacer) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight--
	p.ends = append(p.ends, time.Now())
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *pacer) holdOff(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := time.Now().Add(d); t.After(p.until) {
		p.until = t
	}
}

// call describes one API request.
type call struct {
	endpoint string
	method   string
	path     string // escaped path, e.g. /v1/background_jobs/bulk%3Ajobs%3A1
	body     any
	// noRetryStatus lists statuses returned to the caller at once even
	// though they are retryable (409 for bulk submissions, which wait for
	// the running job instead).
	noRetryStatus int
}

// do sends the call with pacing and retries and decodes a 2xx body into out
// (when out is non-nil and the body is not empty).
func (c *Client) do(ctx context.Context, cl call, out any) error {
	var payload []byte
	if cl.body != nil {
		var err error
		if payload, err = json.Marshal(cl.body); err != nil {
			return fmt.Errorf("userpilot: %s: encode body: %w", cl.endpoint, err)
		}
	}
	u, err := url.Parse(c.base.String() + cl.path)
	if err != nil {
		return fmt.Errorf("userpilot: %s: build url: %w", cl.endpoint, err)
	}
	for attempt := 0; ; attempt++ {
		err := c.attempt(ctx, cl, u, payload, out)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("userpilot: %s: %w", cl.endpoint, context.Cause(ctx))
		}
		var ae *APIError
		if errors.As(err, &ae) && cl.noRetryStatus != 0 && ae.Status == cl.noRetryStatus {
			return err
		}
		if !IsRetryable(err) {
			return err
		}
		if attempt >= c.maxRetries {
			if attempt > 0 {
				return fmt.Errorf("userpilot: %s: gave up after %d attempts: %w", cl.endpoint, attempt+1, err)
			}
			return err
		}
		delay := c.backoff(attempt)
		var rl *RateLimitError
		if errors.As(err, &rl) && rl.RetryAfter > 0 {
			c.pacer.holdOff(rl.RetryAfter)
			delay = max(delay, rl.RetryAfter)
		}
		c.stats.retry(delay)
		c.logger.LogAttrs(ctx, slog.LevelWarn, "userpilot: retrying",
			slog.String("endpoint", cl.endpoint), slog.Int("attempt", attempt+1),
			slog.Duration("delay", delay), slog.String("error", err.Error()))
		if err := sleep.For(ctx, delay); err != nil {
			return fmt.Errorf("userpilot: %s: %w", cl.endpoint, context.Cause(ctx))
		}
	}
}

func (c *Client) attempt(ctx context.Context, cl call, u *url.URL, payload []byte, out any) error {
	waited, err := c.pacer.acquire(ctx)
	c.stats.paced(waited)
	if err != nil {
		return fmt.Errorf("userpilot: %s: pacing: %w", cl.endpoint, err)
	}
	defer c.pacer.release()
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u.String(), body)
	if err != nil {
		return fmt.Errorf("userpilot: %s: new request: %w", cl.endpoint, err)
	}
	req.Header.Set("Authorization", "Token "+c.key)
	req.Header.Set("X-API-Version", APIVersion)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	c.stats.call(cl.endpoint)
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("userpilot: %s: %w", cl.endpoint, &transportError{err: scrubURLError(err)})
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			return fmt.Errorf("userpilot: %s: read response: %w", cl.endpoint, &transportError{err: err})
		}
		if out != nil && len(bytes.TrimSpace(data)) > 0 {
			if err := json.Unmarshal(data, out); err != nil {
				return fmt.Errorf("userpilot: %s: decode response: %w", cl.endpoint, err)
			}
		}
		return nil
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	ae := APIError{Endpoint: cl.endpoint, Status: resp.StatusCode}
	var eb struct {
		Errors []ErrorDetail `json:"errors"`
	}
	if json.Unmarshal(data, &eb) == nil {
		ae.Errors = eb.Errors
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		c.stats.rateLimited()
		return &RateLimitError{APIError: ae, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}
	}
	return &ae
}

// scrubURLError drops the URL from a *url.Error: it holds job ids only,
// but keeping transport errors free of request details is simpler to
// reason about.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// backoff returns the delay before retry number attempt+1: uniformly random
// in [base/2, min(max, base*2^attempt)].
func (c *Client) backoff(attempt int) time.Duration {
	ceil := c.backoffBase << min(attempt, 20)
	if ceil > c.backoffMax || ceil <= 0 {
		ceil = c.backoffMax
	}
	floor := c.backoffBase / 2
	if ceil <= floor {
		return ceil
	}
	return floor + rand.N(ceil-floor)
}
