// Package hubspottest is a faithful in-memory HubSpot for tests and the local run.
//
// It speaks HubSpot's REST API over raw HTTP/JSON (it deliberately does not import
// shared/hubspot, so it tests that client independently and the client's tests can
// import it) on both the numbered (v3) and date-based (2026-03) paths, and
// reproduces the behaviour HubSpot's developer docs describe: search filters, one
// sort, paging, the 10,000-result cap, the 3,000-character body limit, search lag,
// batch limits and 207 partial results, property validation, merges (a new id;
// old ids answer with it), hs_additional_emails, last-modified stamps, custom
// events with uuid de-duplication, timeline and app events, OAuth refresh, rate
// limits with the documented 429 bodies and headers, and seedable fault injection.
//
// Use NewTestServer in tests (s.URL, s.Token()), New as an http.Handler, or
// Serve / ServeListener for the local run. Seed with AddRecords, SeedContacts and
// CreateProperty; change data as a HubSpot user would with Update, BulkEdit,
// Merge and Archive; inspect with Requests, Count (endpoint names are the
// Endpoint* constants), Record, Records, Events and DroppedDuplicates; inject
// failures with SetFault and FailNext.
//
// Behaviour that HubSpot does not document precisely is an Option (BatchUpdateInvalid,
// DuplicateEventUUID, TimelineItemErrors, OAuthCamelCase, BatchReadMatchesAdditionalEmails,
// UnstableTies, RetryAfter429),
// so clients can be tested under each variant.
package hubspottest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/internal/sandbox"
	"github.com/pilotsync/pilotsync/shared/internal/sleep"
)

// Limits and defaults, with where the numbers come from (https://developers.hubspot.com/docs/api/usage-details and
// https://developers.hubspot.com/docs/api/crm/search unless noted).
const (
	// DefaultPerTenSeconds is the Professional private-app / service-key limit per 10 s.
	DefaultPerTenSeconds = 190
	// DefaultDaily is the Professional daily limit.
	DefaultDaily = 625000
	// DefaultSearchPerSecond is the CRM search limit per account.
	DefaultSearchPerSecond = 5
	// DefaultWindow is the rolling window of the general limit.
	DefaultWindow = 10 * time.Second
	// DefaultSearchWindow is the window of the search limit.
	DefaultSearchWindow = time.Second
	// DefaultPortalID is the portal (account) id used when Options.PortalID is zero.
	DefaultPortalID = 12345678
	// DefaultToken is the accepted static bearer token when Options.Tokens is empty.
	DefaultToken = "pilotsync-sandbox-token"
	// DefaultClientID, DefaultClientSecret and DefaultRefreshToken are the OAuth app
	// credentials accepted by the token endpoints when Options.OAuth is zero.
	DefaultClientID = "sandbox-client-id"
	// DefaultClientSecret: see DefaultClientID.
	DefaultClientSecret = "sandbox-client-secret"
	// DefaultRefreshToken: see DefaultClientID.
	DefaultRefreshToken = "sandbox-refresh-token"
	// AccessTokenTTL is the lifetime of OAuth access tokens (30 minutes).
	AccessTokenTTL = 30 * time.Minute

	maxBatchInputs      = 100   // batch read / update inputs per call
	maxEventBatch       = 500   // custom events per batch send
	maxTimelineBatch    = 500   // timeline / app events per batch (sandbox choice, same as events)
	maxSearchLimit      = 200   // search page size
	defaultSearchLimit  = 10    // HubSpot's default search page size
	maxListLimit        = 100   // list page size
	defaultListLimit    = 10    // HubSpot's default list page size
	searchResultCap     = 10000 // results reachable through one search query
	maxSearchBodyChars  = 3000  // search request body limit
	maxFilterGroups     = 5     // per search
	maxFiltersPerGroup  = 6     // per filter group
	maxFiltersTotal     = 18    // per search
	maxEventDefinitions = 500   // custom event definitions per account
	maxEventProperties  = 50    // properties per event occurrence
	maxEventValueChars  = 256   // characters per event property value
	maxStringValueChars = 65536 // HubSpot string property limit
	maxRecordedRequests = 50000 // the inspection log keeps the most recent requests
	maxBodyBytes        = 16 << 20
	uuidDedupeWindow    = 365 * 24 * time.Hour // "rejects repeats within a year"
)

// Values of Options.BatchUpdateInvalid: what a batch update holding an invalid or
// unknown record answers.
const (
	// InvalidByTrace (the default) is HubSpot's documented behaviour: 207 with per-record
	// errors naming context.objectWriteTraceId when every input carries a unique
	// objectWriteTraceId, otherwise a whole-batch 400 that writes nothing
	// (https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/batch-update).
	InvalidByTrace = "trace"
	// InvalidPartial207 always answers 207 with per-record errors naming context.ids,
	// writing the valid records.
	InvalidPartial207 = "207"
	// InvalidWhole400 always rejects the whole batch with 400 and writes nothing.
	InvalidWhole400 = "400"
)

// Values of Options.DuplicateEventUUID: what a custom event batch holding a uuid already
// kept answers. HubSpot documents only that a repeat is "rejected".
const (
	// DuplicateDrop (the default) answers 204 and silently drops the repeat.
	DuplicateDrop = ""
	// DuplicateReject400 fails the whole batch with 400 and keeps none of it.
	DuplicateReject400 = "400"
)

// Endpoint names used by Count, Counts, Request.Endpoint, SetFault and FailNext.
const (
	EndpointSearch           = "search"
	EndpointList             = "list"
	EndpointGet              = "get"
	EndpointBatchRead        = "batch_read"
	EndpointBatchUpdate      = "batch_update"
	EndpointProperties       = "properties"
	EndpointPropertyGroups   = "property_groups"
	EndpointEventDefinitions = "event_definitions"
	EndpointEventsSend       = "events_send"
	EndpointTimeline         = "timeline"
	EndpointAppEvents        = "app_events"
	EndpointOAuth            = "oauth"
	EndpointUnknown          = "unknown"
	// EndpointAll in SetFault applies a fault to every endpoint without its own.
	EndpointAll = "*"
)

// OAuthApp holds the OAuth app credentials the token endpoint accepts.
type OAuthApp struct {
	ClientID, ClientSecret, RefreshToken string
}

// Options configures a Server. The zero value is a Professional account with
// HubSpot's documented limits, no lag and no faults.
type Options struct {
	// Tokens are the accepted static bearer tokens (private app / service key).
	// Empty means DefaultToken.
	Tokens []string
	// RequireOAuth rejects static tokens: only access tokens from a token endpoint work.
	RequireOAuth bool
	// OAuth is the app the token endpoint accepts; zero means the Default* credentials.
	OAuth OAuthApp
	// AccessTokenTTL overrides the 30-minute access token lifetime.
	AccessTokenTTL time.Duration
	// AppEventsAllowStaticToken lets static tokens use timeline and app events, which
	// HubSpot only allows for OAuth (per-installation) apps; default 403.
	AppEventsAllowStaticToken bool

	// PortalID is the account id (fully qualified event names are pe<PortalID>_<name>).
	PortalID int64

	// PerTenSeconds is the general limit per Window: 0 = DefaultPerTenSeconds, <0 = unlimited.
	PerTenSeconds int
	// Daily is the daily limit: 0 = DefaultDaily, <0 = unlimited (public OAuth apps).
	Daily int
	// SearchPerSecond is the search limit per SearchWindow: 0 = 5, <0 = unlimited.
	SearchPerSecond int
	// Window is the rolling window of PerTenSeconds (default 10 s; shorten for fast tests).
	Window time.Duration
	// SearchWindow is the window of SearchPerSecond (default 1 s).
	SearchWindow time.Duration
	// TimeZone is the account's zone, whose midnight resets the daily limit (default UTC).
	TimeZone *time.Location

	// SearchLag delays when writes become visible to search (batch read, get and list
	// see them at once). Seeded records are visible at once.
	SearchLag time.Duration
	// UnstableTies orders search results that tie on the sort property in an
	// arbitrary (but, per query, repeatable) order instead of by id: HubSpot does
	// not promise an order within a tie, so a walk must split ties by hs_object_id.
	UnstableTies bool
	// RetryAfter429 adds a Retry-After header (whole seconds, rounded up) to 429s,
	// which HubSpot does not document but a client should honour; 0 sends none.
	RetryAfter429 time.Duration
	// BatchUpdateInvalid is InvalidByTrace (default), InvalidPartial207 or InvalidWhole400:
	// what a batch update holding an invalid or unknown record answers.
	BatchUpdateInvalid string
	// BatchReadMatchesAdditionalEmails makes batch read with idProperty=email also
	// match hs_additional_emails (unconfirmed; default off).
	BatchReadMatchesAdditionalEmails bool
	// DateValues is how reads hand back date properties: DateValuesISO
	// ("YYYY-MM-DD", the default) or DateValuesEpochMillis.
	DateValues string
	// DuplicateEventUUID is DuplicateDrop (default) or DuplicateReject400.
	DuplicateEventUUID string
	// TimelineItemErrors makes timeline and app event batches answer invalid events
	// (unknown objectId, missing tokens) per item, in the response's errors[] with
	// numErrors, writing the others (status 207 for timeline, 200 for app events), instead
	// of rejecting the whole batch with 400.
	TimelineItemErrors bool
	// OAuthCamelCase makes the 2026-03 token endpoint answer camelCase field names
	// (accessToken, refreshToken, expiresIn) instead of the spec's snake_case ones.
	OAuthCamelCase bool
	// CustomEventsForbidden answers custom-event calls with 403, as for an account
	// without an Enterprise hub.
	CustomEventsForbidden bool

	// Clock gives the current time (default time.Now). Rate windows, search lag,
	// token expiry, last-modified stamps and de-duplication all use it.
	Clock func() time.Time
	// Seed seeds the random fault injection (SetFault), so runs repeat.
	Seed int64
	// Logger receives the standalone server's errors (Serve); default discards.
	Logger *slog.Logger
}

// Request is one request the server received.
type Request struct {
	Endpoint string
	Method   string
	Path     string
	Query    url.Values
	// Body is the raw body; token requests have client_secret and refresh_token redacted.
	Body []byte
	// Header holds the request headers without Authorization.
	Header http.Header
	// Status is the status the server answered (0 for a dropped connection).
	Status int
	Time   time.Time
}

// BatchInputs decodes the body of a batch update (or batch create) request
// into its inputs: record id -> properties sent.
func (r Request) BatchInputs() (map[string]map[string]string, error) {
	var body struct {
		Inputs []struct {
			ID         string            `json:"id"`
			Properties map[string]string `json:"properties"`
		} `json:"inputs"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		return nil, fmt.Errorf("hubspottest: %s %s body: %w", r.Method, r.Path, err)
	}
	out := make(map[string]map[string]string, len(body.Inputs))
	for _, in := range body.Inputs {
		out[in.ID] = in.Properties
	}
	return out, nil
}

// Server is the in-memory HubSpot. It is an http.Handler and safe for concurrent use.
type Server struct {
	// URL is the base URL of a server started by NewTestServer (for Serve, use BaseURL).
	URL string
	// baseURL is the URL of the running listener, safe to read from any goroutine.
	baseURL atomic.Value

	opts     Options
	clock    func() time.Time
	mux      *http.ServeMux
	patterns map[string]string // mux pattern -> endpoint name
	tokens   map[string]bool
	oauthApp OAuthApp
	tokenTTL time.Duration
	corr     atomic.Int64

	mu           sync.Mutex // guards the data below
	types        map[string]*objectStore
	typeOrder    []string
	nextID       int64
	defs         map[string]*eventDef // by name
	defOrder     []string
	nextDefID    int64
	events       []Event
	seenUUIDs    map[string]time.Time
	dropped      int
	timeline     []TimelineEvent
	timelineIDs  map[string]bool
	appEvents    []TimelineEvent
	appEventIDs  map[string]bool
	accessTokens map[string]time.Time
	tokenSeq     int
	createdByEml int

	reqs *sandbox.Log[Request]

	lim *limiter

	faultMu   sync.Mutex
	rnd       *rand.Rand
	faults    map[string]Fault
	faultHits map[string]int // hits of a Fault with Max, per SetFault key
	failNext  map[string][]int
}

// New builds a Server. It does not listen: use it as an http.Handler, or call
// NewTestServer or Serve.
func New(opts Options) *Server {
	if opts.PortalID == 0 {
		opts.PortalID = DefaultPortalID
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.TimeZone == nil {
		opts.TimeZone = time.UTC
	}
	if opts.BatchUpdateInvalid == "" {
		opts.BatchUpdateInvalid = InvalidByTrace
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:         opts,
		clock:        opts.Clock,
		patterns:     map[string]string{},
		tokens:       map[string]bool{},
		oauthApp:     opts.OAuth,
		tokenTTL:     opts.AccessTokenTTL,
		types:        map[string]*objectStore{},
		nextID:       1001,
		defs:         map[string]*eventDef{},
		nextDefID:    100001,
		seenUUIDs:    map[string]time.Time{},
		timelineIDs:  map[string]bool{},
		appEventIDs:  map[string]bool{},
		accessTokens: map[string]time.Time{},
		reqs:         sandbox.NewLog(maxRecordedRequests, func(r *Request, status int) { r.Status = status }),
		rnd:          rand.New(rand.NewSource(opts.Seed)),
		faults:       map[string]Fault{},
		faultHits:    map[string]int{},
		failNext:     map[string][]int{},
	}
	if len(opts.Tokens) == 0 {
		s.tokens[DefaultToken] = true
	}
	for _, t := range opts.Tokens {
		s.tokens[t] = true
	}
	if s.oauthApp == (OAuthApp{}) {
		s.oauthApp = OAuthApp{ClientID: DefaultClientID, ClientSecret: DefaultClientSecret, RefreshToken: DefaultRefreshToken}
	}
	if s.tokenTTL <= 0 {
		s.tokenTTL = AccessTokenTTL
	}
	s.lim = newLimiter(opts)
	s.seedDefaultTypes()
	s.routes()
	return s
}

// NewTestServer starts s on an httptest server closed when the test ends; URL is set.
func NewTestServer(t testing.TB, opts Options) *Server {
	t.Helper()
	s := New(opts)
	ts := httptest.NewServer(s)
	s.URL = ts.URL
	s.baseURL.Store(ts.URL)
	t.Cleanup(ts.Close)
	return s
}

// Serve listens on addr (e.g. "127.0.0.1:8090") until ctx ends, for the local run.
// BaseURL reports the address once the listener is open.
func (s *Server) Serve(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("hubspottest: listen on %s: %w", addr, err)
	}
	return s.ServeListener(ctx, ln)
}

// BaseURL returns the URL of the running server ("" before it listens).
func (s *Server) BaseURL() string {
	u, _ := s.baseURL.Load().(string)
	return u
}

// ServeListener serves on ln until ctx ends, then shuts down gracefully.
func (s *Server) ServeListener(ctx context.Context, ln net.Listener) error {
	addr := ln.Addr().String()
	s.baseURL.Store("http://" + addr)
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.opts.Logger.Handler(), slog.LevelError)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutCtx)
	}()
	err := srv.Serve(ln)
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("hubspottest: serve on %s: %w", addr, err)
}

// Handler returns the server as an http.Handler.
func (s *Server) Handler() http.Handler { return s }

// Token returns a static bearer token the server accepts.
func (s *Server) Token() string {
	if len(s.opts.Tokens) > 0 {
		return s.opts.Tokens[0]
	}
	return DefaultToken
}

// Now returns the server clock's current time.
func (s *Server) Now() time.Time { return s.clock() }

// PortalID returns the account id.
func (s *Server) PortalID() int64 { return s.opts.PortalID }

// route registers a handler under a pattern and names its endpoint.
func (s *Server) route(pattern, endpoint string, h http.HandlerFunc) {
	s.patterns[pattern] = endpoint
	s.mux.HandleFunc(pattern, h)
}

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	for _, v := range []struct{ objects, props string }{
		{"/crm/v3/objects/{type}", "/crm/v3/properties/{type}"},
		{"/crm/objects/2026-03/{type}", "/crm/properties/2026-03/{type}"},
	} {
		s.route("POST "+v.objects+"/search", EndpointSearch, s.handleSearch)
		s.route("GET "+v.objects, EndpointList, s.handleList)
		s.route("GET "+v.objects+"/{id}", EndpointGet, s.handleGet)
		s.route("POST "+v.objects+"/batch/read", EndpointBatchRead, s.handleBatchRead)
		s.route("POST "+v.objects+"/batch/update", EndpointBatchUpdate, s.handleBatchUpdate)
		s.route("GET "+v.props, EndpointProperties, s.handleListProperties)
		s.route("POST "+v.props, EndpointProperties, s.handleCreateProperty)
		s.route("GET "+v.props+"/{name}", EndpointProperties, s.handleGetProperty)
		s.route("GET "+v.props+"/groups", EndpointPropertyGroups, s.handleListGroups)
		s.route("POST "+v.props+"/groups", EndpointPropertyGroups, s.handleCreateGroup)
	}
	for _, p := range []string{"/events/v3", "/events/2026-03"} {
		s.route("POST "+p+"/send", EndpointEventsSend, s.handleSendEvent)
		s.route("POST "+p+"/send/batch", EndpointEventsSend, s.handleSendEventBatch)
	}
	for _, p := range []string{"/events/v3/event-definitions", "/events/2026-03/event-definitions"} {
		s.route("GET "+p, EndpointEventDefinitions, s.handleListDefinitions)
		s.route("POST "+p, EndpointEventDefinitions, s.handleCreateDefinition)
		s.route("GET "+p+"/{name}", EndpointEventDefinitions, s.handleGetDefinition)
		s.route("POST "+p+"/{name}/property", EndpointEventDefinitions, s.handleAddDefinitionProperty)
	}
	s.route("POST /integrators/timeline/v3/events", EndpointTimeline, s.handleTimelineOne)
	s.route("POST /integrators/timeline/v3/events/batch/create", EndpointTimeline, s.handleTimelineBatch)
	s.route("POST /integrators/timeline/2026-03/events", EndpointAppEvents, s.handleAppEventOne)
	s.route("POST /integrators/timeline/2026-03/events/batch", EndpointAppEvents, s.handleAppEventBatch)
	s.route("POST /oauth/v1/token", EndpointOAuth, s.handleOAuthToken)
	s.route("POST /oauth/2026-03/token", EndpointOAuth, s.handleOAuthToken)
	s.route("/", EndpointUnknown, func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "resource not found", nil)
	})
}

type ctxKey struct{}

// reqState carries per-request decisions from the pipeline to the handlers.
type reqState struct {
	emptyWrite bool // "2xx but nothing written" fault
	oauth      bool // authenticated with an OAuth access token
}

func stateOf(r *http.Request) *reqState {
	if st, ok := r.Context().Value(ctxKey{}).(*reqState); ok {
		return st
	}
	return &reqState{}
}

// ServeHTTP records the request, then applies auth, injected faults and rate limits
// before the endpoint's handler runs.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	_, pattern := s.mux.Handler(r)
	endpoint, ok := s.patterns[pattern]
	if !ok {
		endpoint = EndpointUnknown
	}
	rec := s.record(endpoint, r, body)
	sw := &sandbox.StatusWriter{ResponseWriter: w}
	defer func() { s.reqs.Finish(rec, sw.Status) }()

	st := &reqState{}
	if endpoint != EndpointOAuth {
		oauth, ok := s.authenticate(sw, r)
		if !ok {
			return
		}
		st.oauth = oauth
	}
	if endpoint != EndpointUnknown {
		act := s.decideFault(endpoint)
		switch act.kind {
		case faultDrop:
			sandbox.DropConnection(sw)
			return
		case faultStatus:
			s.writeInjected(sw, endpoint, act.status)
			return
		case faultEmpty:
			st.emptyWrite = true
		}
		if act.slow > 0 {
			if sleep.For(r.Context(), act.slow) != nil {
				return
			}
		}
		// The token endpoint is not rate limited.
		if endpoint != EndpointOAuth && !s.admit(sw, endpoint) {
			return
		}
	}
	s.mux.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), ctxKey{}, st)))
}

func (s *Server) record(endpoint string, r *http.Request, body []byte) *Request {
	h := r.Header.Clone()
	h.Del("Authorization")
	q, _ := url.ParseQuery(r.URL.RawQuery)
	if endpoint == EndpointOAuth {
		body = redactForm(body)
	}
	rec := &Request{Endpoint: endpoint, Method: r.Method, Path: r.URL.Path, Query: q, Body: body, Header: h, Time: s.clock()}
	s.reqs.Add(endpoint, rec)
	return rec
}

// Requests returns copies of the requests received since the last ResetRequests,
// oldest first.
func (s *Server) Requests() []Request { return s.reqs.Requests() }

// RequestsTo returns the requests to one endpoint.
func (s *Server) RequestsTo(endpoint string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Endpoint == endpoint {
			out = append(out, r)
		}
	}
	return out
}

// Count returns how many requests an endpoint received (whatever the answer).
func (s *Server) Count(endpoint string) int { return s.reqs.Count(endpoint) }

// Counts returns the request count per endpoint.
func (s *Server) Counts() map[string]int { return s.reqs.Counts() }

// StatusCount returns how many responses had the given status (0 = dropped).
func (s *Server) StatusCount(status int) int { return s.reqs.StatusCount(status) }

// ResetRequests forgets the recorded requests, counts and status counts.
func (s *Server) ResetRequests() { s.reqs.Reset() }

func (s *Server) correlationID() string {
	n := s.corr.Add(1)
	return fmt.Sprintf("5a1d0c0e-0000-4000-8000-%012x", n)
}

// authenticate checks the bearer token; it writes the 401/403 itself.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (oauth, ok bool) {
	auth := r.Header.Get("Authorization")
	tok, found := strings.CutPrefix(auth, "Bearer ")
	if !found || tok == "" {
		s.writeError(w, http.StatusUnauthorized, "INVALID_AUTHENTICATION",
			"Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview", nil)
		return false, false
	}
	now := s.clock()
	s.mu.Lock()
	exp, isOAuth := s.accessTokens[tok]
	s.mu.Unlock()
	switch {
	case isOAuth && now.Before(exp):
		return true, true
	case isOAuth:
		s.writeError(w, http.StatusUnauthorized, "EXPIRED_AUTHENTICATION",
			fmt.Sprintf("The OAuth token used to make this call expired %d second(s) ago.", int(now.Sub(exp).Seconds())), nil)
		return false, false
	case s.tokens[tok] && !s.opts.RequireOAuth:
		return false, true
	}
	s.writeError(w, http.StatusUnauthorized, "INVALID_AUTHENTICATION",
		"Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview", nil)
	return false, false
}

// writeJSON writes v with a status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// apiError is HubSpot's error body.
type apiError struct {
	Status        string         `json:"status"`
	Message       string         `json:"message"`
	CorrelationID string         `json:"correlationId"`
	Category      string         `json:"category,omitempty"`
	Errors        []fieldError   `json:"errors,omitempty"`
	Context       map[string]any `json:"context,omitempty"`
}

// fieldError is one entry of an error body's errors list.
type fieldError struct {
	Message string              `json:"message"`
	Code    string              `json:"code,omitempty"`
	Context map[string][]string `json:"context,omitempty"`
}

func (s *Server) writeError(w http.ResponseWriter, status int, category, message string, errs []fieldError) {
	writeJSON(w, status, apiError{Status: "error", Message: message, CorrelationID: s.correlationID(), Category: category, Errors: errs})
}

// badRequest writes a 400 VALIDATION_ERROR.
func (s *Server) badRequest(w http.ResponseWriter, format string, args ...any) {
	s.writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf(format, args...), nil)
}

// decodeBody decodes a JSON body, answering 400 on failure.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, v); err != nil {
		s.writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Invalid input JSON on line 1: "+err.Error(), nil)
		return false
	}
	return true
}

// scalarString turns a JSON scalar (string, number, bool) into HubSpot's string form.
func scalarString(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	var str string
	if err := json.Unmarshal(raw, &str); err == nil {
		return str, true
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&n); err == nil {
		return n.String(), true
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		if b {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

// isoMillis formats a time the way HubSpot does in record bodies.
func isoMillis(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// redactForm hides the OAuth secrets in a recorded token request body; the handler
// still reads the original.
func redactForm(body []byte) []byte {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil
	}
	for _, k := range []string{"client_secret", "refresh_token", "code"} {
		if form.Has(k) {
			form.Set(k, "REDACTED")
		}
	}
	return []byte(form.Encode())
}
