// Package userpilottest is an in-memory Userpilot write API for tests and
// the local run. It implements every endpoint shared/userpilot calls, with
// Userpilot's documented behaviour (https://docs.userpilot.com/api-references/http-api): token auth, the
// X-API-Version header, body validation with the documented error body,
// property merges where null removes (or, with Options.NullIgnored, is
// ignored), identify linking a user to a
// company, track requiring an existing user, bulk jobs that progress over
// time with one job at a time (409), and the 600 requests per minute limit.
// Faults can be injected per endpoint, and everything received can be
// inspected.
//
// Where Userpilot's behaviour is not documented the sandbox makes a choice
// and says so in the doc comment (error codes, Retry-After on 429, which
// endpoints count against the limit).
package userpilottest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/internal/sandbox"
	"github.com/pilotsync/pilotsync/shared/internal/sleep"
)

// Stable endpoint names, used by Count, SetFault and Request.Endpoint. They
// match the client's (shared/userpilot) endpoint names.
const (
	EndpointIdentify          = "identify"
	EndpointCompaniesIdentify = "companies_identify"
	EndpointUsersBulk         = "users_bulk"
	EndpointCompaniesBulk     = "companies_bulk"
	EndpointBackgroundJobs    = "background_jobs"
	EndpointTrack             = "track"
	// EndpointUnknown names requests to paths the sandbox does not serve.
	EndpointUnknown = "unknown"
)

// Defaults and Userpilot facts (https://docs.userpilot.com/api-references/http-api).
const (
	// DefaultAPIKey is the production token accepted when Options.APIKey is empty.
	DefaultAPIKey = "up-sandbox-key"
	// APIVersion is the X-API-Version value required on every call.
	APIVersion = "2020-09-22"
	// DefaultRateLimit requests per DefaultRateWindow per token.
	DefaultRateLimit = 600
	// DefaultRateWindow is the window the limit counts over.
	DefaultRateWindow = time.Minute
	// DefaultMaxBulkRecords is the most records one bulk request may hold.
	DefaultMaxBulkRecords = 10000
	// DefaultJobDuration is how long a bulk job takes from queued to completed.
	DefaultJobDuration = 2 * time.Second
	// maxBody bounds a request body (10,000 records with metadata fit well).
	maxBody = 64 << 20
)

// Options configure a Server. The zero value is a production environment
// with the default key and Userpilot's limits.
type Options struct {
	// APIKey is the one token this environment accepts (default
	// DefaultAPIKey). A key starting with "STG-" makes it a staging
	// environment. Any other token gets 401.
	APIKey string
	// RateLimit is the number of requests allowed per RateWindow per token
	// (default 600 per minute; negative disables the limit). The window
	// slides: a request is refused with 429 when RateLimit requests were
	// accepted in the RateWindow before it. Every endpoint counts (the docs
	// name identify and track; counting all is the stricter choice).
	RateLimit  int
	RateWindow time.Duration
	// JobDuration is how long a bulk job takes from queued to completed
	// (default 2s; negative completes jobs at once). The first 10% of it is
	// queued, the next 10% validating, the rest processing with
	// completed_rows growing; the records are written when it completes.
	JobDuration time.Duration
	// MaxBulkRecords is the most records per bulk request (default 10,000).
	MaxBulkRecords int
	// IdentifyCompanyKey is the key identify's "company" object must use to
	// link a company: "id" or "company_id". Empty accepts both. With one
	// set, the other is ignored silently (as a real service might), so a
	// client using the wrong one links nothing.
	IdentifyCompanyKey string
	// NullIgnored makes a null metadata value leave the property as it is.
	// Userpilot lists null among the accepted values without saying what
	// it does: by default (false) null removes the property, with this set
	// it is ignored, as a service that merges only non-null values would.
	// A "" value is stored as the empty string either way.
	NullIgnored bool
	// AllowMissingAPIVersion accepts calls without X-API-Version (by
	// default they get 400, because the docs mark the header required).
	AllowMissingAPIVersion bool
	// Clock returns the current time (default time.Now). Bulk jobs and the
	// rate window follow it.
	Clock func() time.Time
	// Seed seeds fault injection (0 = a fixed default, so runs repeat).
	Seed int64
	// Logger receives one debug line per request (default: discard).
	Logger *slog.Logger
}

// Server is the in-memory Userpilot. It is an http.Handler and safe for
// concurrent use.
type Server struct {
	// URL is the base URL when built by NewTestServer or while Serve runs.
	URL string

	opts Options
	mux  *http.ServeMux
	now  func() time.Time
	log  *slog.Logger

	mu        sync.Mutex
	users     map[string]*User
	companies map[string]*Company
	events    []Event
	jobs      map[string]*job
	jobOrder  []string
	jobSeq    int
	failNext  int
	requests  *sandbox.Log[Request]
	window    map[string][]time.Time // token -> accepted request times
	faults    map[string]*faultState
	rng       *rand.Rand
}

// New returns a sandbox with opts.
func New(opts Options) *Server {
	if opts.APIKey == "" {
		opts.APIKey = DefaultAPIKey
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = DefaultRateLimit
	}
	if opts.RateWindow <= 0 {
		opts.RateWindow = DefaultRateWindow
	}
	if opts.JobDuration == 0 {
		opts.JobDuration = DefaultJobDuration
	}
	if opts.MaxBulkRecords <= 0 {
		opts.MaxBulkRecords = DefaultMaxBulkRecords
	}
	s := &Server{
		opts:      opts,
		now:       opts.Clock,
		log:       opts.Logger,
		users:     map[string]*User{},
		companies: map[string]*Company{},
		jobs:      map[string]*job{},
		requests:  sandbox.NewLog(0, func(r *Request, status int) { r.Status = status }),
		window:    map[string][]time.Time{},
		faults:    map[string]*faultState{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	seed := uint64(opts.Seed)
	if seed == 0 {
		seed = 1
	}
	s.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /v1/identify", s.handleIdentify)
	s.mux.HandleFunc("POST /v1/companies/identify", s.handleCompaniesIdentify)
	s.mux.HandleFunc("POST /v1/users/bulk_identify", s.handleUsersBulk)
	s.mux.HandleFunc("POST /v1/companies/bulk_identify", s.handleCompaniesBulk)
	s.mux.HandleFunc("GET /v1/background_jobs/{job_id}", s.handleJob)
	s.mux.HandleFunc("POST /v1/track", s.handleTrack)
	s.mux.HandleFunc("/", s.handleNotFound)
	return s
}

// NewTestServer starts a sandbox on an httptest server, closed when the
// test ends. Its base URL is in Server.URL.
func NewTestServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s := New(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	s.URL = ts.URL
	return s
}

// Serve listens on addr (e.g. "127.0.0.1:8089") and serves until ctx ends,
// then shuts down gracefully. It is the standalone mode for the local run.
func (s *Server) Serve(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("userpilottest: listen %s: %w", addr, err)
	}
	return s.ServeListener(ctx, ln)
}

// ServeListener serves on ln until ctx ends (useful with ":0" listeners).
func (s *Server) ServeListener(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.URL = "http://" + ln.Addr().String()
	s.mu.Unlock()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("userpilottest: serve: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("userpilottest: shutdown: %w", err)
	}
	return nil
}

// Environment is "staging" when the server's key starts with "STG-", else
// "production".
func (s *Server) Environment() string {
	if strings.HasPrefix(s.opts.APIKey, "STG-") {
		return "staging"
	}
	return "production"
}

// APIKey returns the token the server accepts.
func (s *Server) APIKey() string { return s.opts.APIKey }

func endpointOf(r *http.Request) string {
	switch r.URL.Path {
	case "/v1/identify":
		return EndpointIdentify
	case "/v1/companies/identify":
		return EndpointCompaniesIdentify
	case "/v1/users/bulk_identify":
		return EndpointUsersBulk
	case "/v1/companies/bulk_identify":
		return EndpointCompaniesBulk
	case "/v1/track":
		return EndpointTrack
	}
	if strings.HasPrefix(r.URL.Path, "/v1/background_jobs/") {
		return EndpointBackgroundJobs
	}
	return EndpointUnknown
}

type ctxKey struct{}

// reqState carries what the handler decided back to ServeHTTP.
type reqState struct {
	body     []byte
	empty2xx bool // fault: answer 2xx but write nothing
}

// ServeHTTP records the request, then applies auth, the API version check,
// injected faults and the rate limit before the endpoint's handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	endpoint := endpointOf(r)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return // the client went away mid-body
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	req := &Request{
		Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Endpoint: endpoint,
		Header: r.Header.Clone(), Body: body, At: s.now(),
	}
	s.requests.Add(endpoint, req)

	rec := &sandbox.StatusWriter{ResponseWriter: w}
	s.serve(rec, r, endpoint, body)
	s.requests.Finish(req, rec.Status)
	s.log.Debug("userpilottest: request", "endpoint", endpoint, "method", r.Method, "status", rec.Status)
}

func (s *Server) serve(w *sandbox.StatusWriter, r *http.Request, endpoint string, body []byte) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Token ")
	if !ok {
		// The docs show both "Token" and "token".
		token, ok = strings.CutPrefix(r.Header.Get("Authorization"), "token ")
	}
	if !ok || token != s.opts.APIKey {
		writeError(w, http.StatusUnauthorized, "Unauthorized", "invalid_api_key", "invalid API key", "")
		return
	}
	if v := r.Header.Get("X-API-Version"); v != APIVersion && !(v == "" && s.opts.AllowMissingAPIVersion) {
		writeError(w, http.StatusBadRequest, "Bad Request", "invalid_api_version",
			"X-API-Version header must be "+APIVersion, "X-API-Version")
		return
	}
	if r.Method == http.MethodPost && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "Unsupported Media Type", "invalid_content_type",
			"Content-Type must be application/json", "Content-Type")
		return
	}
	if len(body) > maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, "Payload Too Large", "payload_too_large", "request body too large", "")
		return
	}

	f := s.drawFault(endpoint)
	if f.slow > 0 {
		if sleep.For(r.Context(), f.slow) != nil {
			return
		}
	}
	switch f.kind {
	case faultDrop:
		sandbox.DropConnection(w)
		return
	case fault5xx:
		writeError(w, f.status, http.StatusText(f.status), "internal_error", "injected server error", "")
		return
	case fault429:
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "Too Many Requests", "rate_limit_exceeded", "injected rate limit", "")
		return
	}

	if retry, limited := s.admit(token); limited {
		secs := int((retry + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", fmt.Sprint(max(secs, 1)))
		writeError(w, http.StatusTooManyRequests, "Too Many Requests", "rate_limit_exceeded",
			fmt.Sprintf("rate limit of %d requests per %s exceeded", s.opts.RateLimit, s.opts.RateWindow), "")
		return
	}
	ctx := context.WithValue(r.Context(), ctxKey{}, &reqState{body: body, empty2xx: f.kind == faultEmpty2xx})
	s.mux.ServeHTTP(w, r.WithContext(ctx))
}

// admit applies the sliding-window limit for token. It returns how long
// until a slot frees when the request is refused.
func (s *Server) admit(token string) (time.Duration, bool) {
	if s.opts.RateLimit < 0 {
		return 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	cut := now.Add(-s.opts.RateWindow)
	times := sandbox.Prune(s.window[token], now, s.opts.RateWindow)
	if len(times) >= s.opts.RateLimit {
		s.window[token] = times
		return times[0].Sub(cut), true
	}
	s.window[token] = append(times, now)
	return 0, false
}

func bodyOf(r *http.Request) []byte {
	st, _ := r.Context().Value(ctxKey{}).(*reqState)
	if st == nil {
		return nil
	}
	return st.body
}

func isEmpty2xx(r *http.Request) bool {
	st, _ := r.Context().Value(ctxKey{}).(*reqState)
	return st != nil && st.empty2xx
}

// errorBody is Userpilot's documented error body.
type errorBody struct {
	Errors []ErrorDetail `json:"errors"`
}

// ErrorDetail is one entry of the error body.
type ErrorDetail struct {
	Error     string `json:"error"`
	ErrorCode string `json:"error_code"`
	Message   string `json:"message"`
	Details   string `json:"details"`
}

func writeError(w http.ResponseWriter, status int, title, code, msg, details string) {
	writeJSON(w, status, errorBody{Errors: []ErrorDetail{{Error: title, ErrorCode: code, Message: msg, Details: details}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // a write error means the client went away
}
