// Package hubspot is pilotsync's HubSpot API client: CRM search (walking past the 10,000-result
// cap), list, batch read and update, properties, custom event definitions and events, timeline
// and app events. It paces itself to the account's limits (token buckets for the 10-second
// window, search's 5 per second and the daily budget, tightened from HubSpot's rate headers),
// retries transient failures with jittered backoff, and returns typed errors. The facts it relies
// on are cited beside each constant from HubSpot's developer docs (limits:
// https://developers.hubspot.com/docs/api/usage-details); the codec
// (EncodeValue, DecodeValue) converts Go values to and from
// HubSpot's string property formats.
package hubspot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// API versions (https://developers.hubspot.com/docs/api-reference/2026-03/overview).
const (
	APIVersion202603 = "2026-03"
	APIVersionV3     = "v3"
	// DefaultAPIVersion is used when WithAPIVersion is not given.
	DefaultAPIVersion = APIVersion202603
	// DefaultBaseURL is HubSpot's API host.
	DefaultBaseURL = "https://api.hubapi.com"
)

// Client defaults (our choices).
const (
	defaultTimeout    = 30 * time.Second
	defaultMaxRetries = 6
	backoffBase       = 500 * time.Millisecond
	backoffMax        = 30 * time.Second
	maxBody           = 64 << 20
	userAgent         = "pilotsync-hubspot/1"
)

// Client talks to one HubSpot account. It is safe for concurrent use; concurrent callers share
// its pacing.
type Client struct {
	base       string
	version    string
	hc         *http.Client
	auth       tokenSource
	pacer      *pacer
	clock      Clock
	log        *slog.Logger
	maxRetries int
	stats      *stats

	// tracePrefix and traceSeq build unique objectWriteTraceIds (traceID).
	tracePrefix string
	traceSeq    atomic.Int64
}

type settings struct {
	baseURL    string
	token      string
	oauth      *OAuthConfig
	version    string
	limits     *Limits
	hc         *http.Client
	log        *slog.Logger
	maxRetries int
	clock      Clock
	oauthAPI   string
}

// Option configures a Client.
type Option func(*settings)

// WithBaseURL sets the API host (default DefaultBaseURL), e.g. a hubspottest server's URL.
func WithBaseURL(u string) Option { return func(s *settings) { s.baseURL = u } }

// WithToken authenticates with a static bearer token (private app token or service key).
func WithToken(token string) Option { return func(s *settings) { s.token = token } }

// WithOAuth authenticates a public app installation with its refresh token; access tokens are
// refreshed before they expire.
func WithOAuth(cfg OAuthConfig) Option { return func(s *settings) { c := cfg; s.oauth = &c } }

// WithAPIVersion selects the path family: "2026-03" (default) or "v3".
func WithAPIVersion(v string) Option { return func(s *settings) { s.version = v } }

// WithLimits sets the pacing budgets (default LimitsForTier("professional", 0, false)).
func WithLimits(l Limits) Option { return func(s *settings) { s.limits = &l } }

// WithHTTPClient sets the HTTP client (default: 30 s timeout).
func WithHTTPClient(hc *http.Client) Option { return func(s *settings) { s.hc = hc } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *settings) { s.log = l } }

// WithMaxRetries sets how many times one request is retried (default 6; 0 disables retries).
func WithMaxRetries(n int) Option { return func(s *settings) { s.maxRetries = n } }

// WithClock sets the time source for pacing and backoff (tests).
func WithClock(c Clock) Option { return func(s *settings) { s.clock = c } }

// WithOAuthTokenAPI selects the OAuth token endpoint used to refresh access tokens:
// OAuthTokenAPI202603 (default, POST /oauth/2026-03/token) or OAuthTokenAPIV1 (POST
// /oauth/v1/token, which HubSpot retires on 2027-02-16); "" means the default.
func WithOAuthTokenAPI(v string) Option { return func(s *settings) { s.oauthAPI = v } }

var datedVersionRE = regexp.MustCompile(`^\d{4}-\d{2}$`)

// NewClient builds a Client; exactly one of WithToken and WithOAuth is required.
func NewClient(opts ...Option) (*Client, error) {
	s := settings{baseURL: DefaultBaseURL, version: DefaultAPIVersion, maxRetries: defaultMaxRetries, oauthAPI: OAuthTokenAPI202603}
	for _, o := range opts {
		o(&s)
	}
	var problems []string
	u, err := url.Parse(s.baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		problems = append(problems, fmt.Sprintf("base url %q is not an http(s) url", s.baseURL))
	}
	if s.version != APIVersionV3 && !datedVersionRE.MatchString(s.version) {
		problems = append(problems, fmt.Sprintf("api version %q is neither %q nor a date version like %q", s.version, APIVersionV3, APIVersion202603))
	}
	if (s.token == "") == (s.oauth == nil) {
		problems = append(problems, "exactly one of a token and oauth credentials is required")
	}
	if s.oauth != nil && (s.oauth.ClientID == "" || s.oauth.ClientSecret == "" || s.oauth.RefreshToken == "") {
		problems = append(problems, "oauth needs client id, client secret and refresh token")
	}
	if s.oauthAPI == "" {
		s.oauthAPI = OAuthTokenAPI202603
	}
	tokenPath, ok := oauthTokenPaths[s.oauthAPI]
	if !ok {
		problems = append(problems, fmt.Sprintf("oauth token api %q is neither %q nor %q", s.oauthAPI, OAuthTokenAPI202603, OAuthTokenAPIV1))
	}
	if s.maxRetries < 0 {
		problems = append(problems, "max retries is negative")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("hubspot: new client: %s", strings.Join(problems, "; "))
	}
	if s.hc == nil {
		s.hc = &http.Client{Timeout: defaultTimeout}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.clock == nil {
		s.clock = realClock{}
	}
	limits := LimitsForTier("professional", 0, s.oauth != nil)
	if s.limits != nil {
		limits = *s.limits
	}
	c := &Client{
		base:        strings.TrimRight(s.baseURL, "/"),
		version:     s.version,
		hc:          s.hc,
		pacer:       newPacer(limits, s.clock),
		clock:       s.clock,
		log:         s.log,
		maxRetries:  s.maxRetries,
		stats:       newStats(),
		tracePrefix: fmt.Sprintf("ps-%016x-", rand.Uint64()),
	}
	if s.oauth != nil {
		c.auth = &oauthSource{cfg: *s.oauth, tokenURL: c.base + tokenPath, hc: s.hc, clock: s.clock,
			onCall: func(status int, err error) { c.stats.call("oauth_token", status, err) }}
	} else {
		c.auth = staticToken(s.token)
	}
	return c, nil
}

// APIVersion reports the configured API version.
func (c *Client) APIVersion() string { return c.version }

// apiPath is the one path builder for both version families (https://developers.hubspot.com/docs/api-reference/2026-03/overview).
// family: "objects", "properties" (CRM), "events", "timeline".
func apiPath(version, family string, rest ...string) string {
	var p string
	switch family {
	case "objects", "properties":
		if version == APIVersionV3 {
			p = "/crm/v3/" + family
		} else {
			p = "/crm/" + family + "/" + version
		}
	case "events":
		p = "/events/" + version
	case "timeline":
		p = "/integrators/timeline/" + version
	default:
		panic("hubspot: unknown path family " + family)
	}
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

// LastModifiedProperty names the property HubSpot bumps on every write: contacts use
// lastmodifieddate, companies and other objects hs_lastmodifieddate.
func LastModifiedProperty(objectType string) string {
	if objectType == "contacts" || objectType == "contact" || objectType == "0-1" {
		return "lastmodifieddate"
	}
	return "hs_lastmodifieddate"
}

// request is one logical API call; do sends it, pacing and retrying.
type request struct {
	endpoint string // stats and log name
	method   string
	path     string
	query    url.Values
	body     any
	search   bool
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends r, paced and retried, and decodes a 2xx JSON body into out (if non-nil). Non-2xx
// answers become *APIError or *RateLimitError.
func (c *Client) do(ctx context.Context, r *request, out any) (*response, error) {
	var payload []byte
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return nil, fmt.Errorf("hubspot: %s: encode body: %w", r.endpoint, err)
		}
	}
	target := c.base + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	reauthed := false
	for attempt := 0; ; attempt++ {
		waited, err := c.pacer.wait(ctx, r.search)
		c.stats.addWait(waited, 0)
		if err != nil {
			return nil, fmt.Errorf("hubspot: %s: %w", r.endpoint, err)
		}
		tok, err := c.auth.token(ctx)
		if err != nil {
			return nil, fmt.Errorf("hubspot: %s: %w", r.endpoint, err)
		}
		resp, retryErr, wait := c.once(ctx, r, target, payload, tok, attempt)
		if retryErr == nil {
			if out != nil && len(resp.body) > 0 {
				if err := json.Unmarshal(resp.body, out); err != nil {
					return resp, fmt.Errorf("hubspot: %s: decode response: %w", r.endpoint, err)
				}
			}
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("hubspot: %s: %w", r.endpoint, ctx.Err())
		}
		var ae *APIError
		if errors.As(retryErr, &ae) && ae.Status == http.StatusUnauthorized && !reauthed && c.auth.invalidate(tok) {
			reauthed = true
			attempt--
			continue
		}
		if !IsRetryable(retryErr) {
			return resp, retryErr
		}
		if attempt >= c.maxRetries {
			return resp, fmt.Errorf("hubspot: %s: giving up after %d attempts: %w", r.endpoint, attempt+1, retryErr)
		}
		if dl, ok := ctx.Deadline(); ok && c.clock.Now().Add(wait).After(dl) {
			return resp, fmt.Errorf("hubspot: %s: retry in %s would pass the deadline: %w", r.endpoint, wait.Round(time.Millisecond), retryErr)
		}
		c.stats.retry()
		c.log.LogAttrs(ctx, slog.LevelInfo, "hubspot retry", slog.String("endpoint", r.endpoint),
			slog.Int("attempt", attempt+1), slog.Duration("wait", wait), slog.String("reason", retryErr.Error()))
		if err := c.clock.Sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("hubspot: %s: %w", r.endpoint, err)
		}
		c.stats.addWait(0, wait)
	}
}

// once sends one attempt. It returns the response, or an error plus the wait before a retry.
func (c *Client) once(ctx context.Context, r *request, target string, payload []byte, tok string, attempt int) (*response, error, time.Duration) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		return nil, fmt.Errorf("hubspot: %s: %w", r.endpoint, err), 0
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := c.clock.Now()
	hr, err := c.hc.Do(req)
	if err != nil {
		c.stats.call(r.endpoint, 0, err)
		if ctx.Err() != nil {
			return nil, ctx.Err(), 0
		}
		c.log.LogAttrs(ctx, slog.LevelDebug, "hubspot call", slog.String("endpoint", r.endpoint), slog.Int("attempt", attempt), slog.String("error", stripURL(err).Error()))
		return nil, fmt.Errorf("%w: %w", errNetwork, stripURL(err)), c.backoff(attempt)
	}
	data, err := io.ReadAll(io.LimitReader(hr.Body, maxBody))
	hr.Body.Close()
	c.stats.call(r.endpoint, hr.StatusCode, err)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err(), 0
		}
		return nil, fmt.Errorf("read body: %w: %w", errNetwork, err), c.backoff(attempt)
	}
	resp := &response{status: hr.StatusCode, header: hr.Header, body: data}
	c.log.LogAttrs(ctx, slog.LevelDebug, "hubspot call", slog.String("endpoint", r.endpoint), slog.String("method", r.method),
		slog.Int("status", hr.StatusCode), slog.Int("attempt", attempt), slog.Duration("took", c.clock.Now().Sub(start)))
	c.pacer.observe(hr.Header)
	if hr.StatusCode/100 == 2 {
		return resp, nil, 0
	}
	retryAfter := parseRetryAfter(hr.Header.Get("Retry-After"), c.clock.Now())
	switch hr.StatusCode {
	case http.StatusTooManyRequests:
		rl := parseRateLimit(data, retryAfter)
		if rl.Policy == "" && r.search {
			rl.Policy = PolicySecondly
		}
		c.stats.rateLimited(rl.Policy)
		switch rl.Policy {
		case PolicyDaily:
			stop := retryAfter
			if stop <= 0 {
				stop = dailyProbe
			}
			c.pacer.stopDaily(stop)
			c.log.LogAttrs(ctx, slog.LevelWarn, "hubspot daily limit reached: calls stop", slog.Duration("for", stop))
			return resp, rl, 0
		case PolicySecondly:
			wait := max(secondlyWait, retryAfter)
			c.pacer.pause(wait, true)
			return resp, rl, c.jitter(wait)
		default:
			// TEN_SECONDLY_ROLLING (or unknown): wait for the window to roll, for every caller:
			// until our oldest send in it leaves it, or the whole window on a repeat.
			wait := retryAfter
			if wait <= 0 {
				wait = c.pacer.window()
				if attempt == 0 {
					wait = c.pacer.windowFrees()
				}
			}
			c.pacer.pause(wait, false)
			return resp, rl, c.jitter(wait)
		}
	case 423:
		return resp, parseAPIError(hr.StatusCode, hr.Header, data, r.endpoint), max(lockedWait, retryAfter, c.backoff(attempt))
	}
	ae := parseAPIError(hr.StatusCode, hr.Header, data, r.endpoint)
	wait := retryAfter
	if wait <= 0 {
		wait = c.backoff(attempt)
	}
	return resp, ae, wait
}

// backoff is exponential with equal jitter: half fixed, half random.
func (c *Client) backoff(attempt int) time.Duration {
	d := backoffBase << min(attempt, 10)
	if d > backoffMax {
		d = backoffMax
	}
	return d/2 + rand.N(d/2+1)
}

// jitter adds up to 10% so callers released by the same pause do not return at once.
func (c *Client) jitter(d time.Duration) time.Duration { return d + rand.N(d/10+1) }

func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 {
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now))
	}
	return 0
}

// errorBody is HubSpot's documented error body; fields may be missing.
type errorBody struct {
	Status        string `json:"status"`
	Message       string `json:"message"`
	Category      string `json:"category"`
	ErrorType     string `json:"errorType"`
	PolicyName    string `json:"policyName"`
	CorrelationID string `json:"correlationId"`
	Errors        []struct {
		Message string         `json:"message"`
		Code    string         `json:"code"`
		Context map[string]any `json:"context"`
	} `json:"errors"`
}

func parseRateLimit(body []byte, retryAfter time.Duration) *RateLimitError {
	var eb errorBody
	_ = json.Unmarshal(body, &eb)
	policy := strings.ToUpper(eb.PolicyName)
	if policy == "" {
		msg := strings.ToLower(eb.Message)
		switch {
		case strings.Contains(msg, "ten_secondly"):
			policy = PolicyTenSecondly
		case strings.Contains(msg, "secondly"):
			policy = PolicySecondly
		case strings.Contains(msg, "daily"):
			policy = PolicyDaily
		}
	}
	return &RateLimitError{Policy: policy, RetryAfter: retryAfter, Message: redactEmails(eb.Message)}
}

func parseAPIError(status int, h http.Header, body []byte, endpoint string) *APIError {
	e := &APIError{Status: status, Endpoint: endpoint}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil {
		e.Category, e.Message, e.CorrelationID = eb.Category, redactEmails(eb.Message), eb.CorrelationID
		for _, fe := range eb.Errors {
			f := FieldError{Message: redactEmails(fe.Message), Code: fe.Code, Context: contextStrings(fe.Context)}
			if names := f.Context["propertyName"]; len(names) > 0 {
				f.Property = names[0]
			}
			e.Errors = append(e.Errors, f)
		}
	} else if len(body) > 0 && len(body) < 300 {
		e.Message = redactEmails(strings.TrimSpace(string(body)))
	}
	if e.CorrelationID == "" {
		e.CorrelationID = h.Get("X-HubSpot-Correlation-Id")
	}
	return e
}

// contextStrings flattens a HubSpot error context ({"ids":["1"],"propertyName":"x"}).
func contextStrings(ctx map[string]any) map[string][]string {
	if len(ctx) == 0 {
		return nil
	}
	out := make(map[string][]string, len(ctx))
	for k, v := range ctx {
		switch v := v.(type) {
		case []any:
			for _, x := range v {
				out[k] = append(out[k], fmt.Sprint(x))
			}
		case nil:
		default:
			out[k] = []string{fmt.Sprint(v)}
		}
	}
	return out
}

// Stats are counters since the client was built.
type Stats struct {
	// Calls is HTTP requests sent per endpoint, retries included.
	Calls map[string]int64
	// Requests is the total of Calls.
	Requests int64
	// Errors counts non-2xx answers and transport failures.
	Errors int64
	// RateLimited counts 429 answers; RateLimitedBy splits them by policy name.
	RateLimited   int64
	RateLimitedBy map[string]int64
	// Retries counts re-sent requests.
	Retries int64
	// Wait is the total time callers waited: PacingWait (token buckets, pauses) plus
	// BackoffWait (between retries).
	Wait, PacingWait, BackoffWait time.Duration
}

type stats struct {
	mu sync.Mutex
	s  Stats
}

func newStats() *stats {
	return &stats{s: Stats{Calls: map[string]int64{}, RateLimitedBy: map[string]int64{}}}
}

func (s *stats) call(endpoint string, status int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.s.Calls[endpoint]++
	s.s.Requests++
	if err != nil || status/100 != 2 {
		s.s.Errors++
	}
}

func (s *stats) rateLimited(policy string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.s.RateLimited++
	s.s.RateLimitedBy[policy]++
}

func (s *stats) retry() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.s.Retries++
}

func (s *stats) addWait(pacing, backoff time.Duration) {
	if pacing == 0 && backoff == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.s.PacingWait += pacing
	s.s.BackoffWait += backoff
	s.s.Wait += pacing + backoff
}

// Stats returns a snapshot of the client's counters.
func (c *Client) Stats() Stats {
	c.stats.mu.Lock()
	defer c.stats.mu.Unlock()
	out := c.stats.s
	out.Calls = make(map[string]int64, len(c.stats.s.Calls))
	for k, v := range c.stats.s.Calls {
		out.Calls[k] = v
	}
	out.RateLimitedBy = make(map[string]int64, len(c.stats.s.RateLimitedBy))
	for k, v := range c.stats.s.RateLimitedBy {
		out.RateLimitedBy[k] = v
	}
	return out
}
