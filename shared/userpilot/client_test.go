package userpilot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/userpilot"
)

const testKey = "up-unit-key"

// recorded is one request a test handler saw.
type recorded struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// stub is an httptest server whose answers come from a func of the
// request number (0-based).
type stub struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func newStub(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, n int)) *stub {
	t.Helper()
	s := &stub{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		n := len(s.reqs)
		s.reqs = append(s.reqs, recorded{Method: r.Method, Path: r.URL.EscapedPath(), Header: r.Header.Clone(), Body: body})
		s.mu.Unlock()
		answer(w, r, n)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *stub) requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.reqs...)
}

// fastOpts keep retries and polling quick in tests.
func fastOpts(base string, more ...userpilot.Option) []userpilot.Option {
	return append([]userpilot.Option{
		userpilot.WithBaseURL(base),
		userpilot.WithBackoff(time.Millisecond, 10*time.Millisecond),
		userpilot.WithJobPolling(5*time.Millisecond, 20*time.Millisecond, 5*time.Second),
		userpilot.WithRateLimit(100000, time.Second),
	}, more...)
}

func newClient(t *testing.T, base string, more ...userpilot.Option) *userpilot.Client {
	t.Helper()
	c, err := userpilot.NewClient(testKey, fastOpts(base, more...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func accepted(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusAccepted) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func errBody(code string) map[string]any {
	return map[string]any{"errors": []map[string]string{{"error": "E", "error_code": code, "message": "msg " + code, "details": "secret@example.com"}}}
}

func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %q is not JSON: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("body = %s\nwant   %s", got, want)
	}
}

func TestEveryRequestShape(t *testing.T) {
	when := time.Date(2026, 3, 1, 10, 20, 30, 0, time.FixedZone("CET", 3600))
	plan := "pro"
	var nilPtr *string
	type call struct {
		name     string
		opts     []userpilot.Option
		do       func(*userpilot.Client) error
		method   string
		path     string
		wantBody string // "" = no body
	}
	calls := []call{
		{
			name: "identify user", method: "POST", path: "/v1/identify",
			do: func(c *userpilot.Client) error {
				return c.IdentifyUser(context.Background(), userpilot.User{UserID: "u1", CompanyID: "c1", Metadata: map[string]any{
					"email": "a@b.com", "seats": 3, "score": 1.5, "active": true, "signed_up": when, "gone": nil, "plan": &plan, "nilptr": nilPtr,
				}})
			},
			wantBody: `{"user_id":"u1","company":{"company_id":"c1","id":"c1"},"metadata":{"email":"a@b.com","seats":3,"score":1.5,"active":true,"signed_up":"2026-03-01T09:20:30Z","gone":null,"plan":"pro","nilptr":null}}`,
		},
		{
			name: "identify user company_id key", method: "POST", path: "/v1/identify",
			opts: []userpilot.Option{userpilot.WithCompanyKey("company_id")},
			do: func(c *userpilot.Client) error {
				return c.IdentifyUser(context.Background(), userpilot.User{UserID: "u1", CompanyID: "c1"})
			},
			wantBody: `{"user_id":"u1","company":{"company_id":"c1"}}`,
		},
		{
			name: "identify user id key", method: "POST", path: "/v1/identify",
			opts: []userpilot.Option{userpilot.WithCompanyKey("id")},
			do: func(c *userpilot.Client) error {
				return c.IdentifyUser(context.Background(), userpilot.User{UserID: "u1", CompanyID: "c1"})
			},
			wantBody: `{"user_id":"u1","company":{"id":"c1"}}`,
		},
		{
			name: "identify user without company", method: "POST", path: "/v1/identify",
			do: func(c *userpilot.Client) error {
				return c.IdentifyUser(context.Background(), userpilot.User{UserID: "u1", Metadata: map[string]any{"n": 1}})
			},
			wantBody: `{"user_id":"u1","metadata":{"n":1}}`,
		},
		{
			name: "identify company", method: "POST", path: "/v1/companies/identify",
			do: func(c *userpilot.Client) error {
				return c.IdentifyCompany(context.Background(), userpilot.Company{CompanyID: "c1", Metadata: map[string]any{"name": "Acme", "mrr": nil}})
			},
			wantBody: `{"company_id":"c1","metadata":{"name":"Acme","mrr":null}}`,
		},
		{
			name: "track", method: "POST", path: "/v1/track",
			do: func(c *userpilot.Client) error {
				return c.Track(context.Background(), userpilot.Event{UserID: "u1", Name: "clicked", Metadata: map[string]any{"n": 2}})
			},
			wantBody: `{"user_id":"u1","event_name":"clicked","metadata":{"n":2}}`,
		},
		{
			name: "job with escaped id", method: "GET", path: "/v1/background_jobs/bulk%3Ajobs%3Aa%2Fb%20c",
			do: func(c *userpilot.Client) error {
				j, err := c.Job(context.Background(), "bulk:jobs:a/b c")
				if err == nil && (j.Status != "completed" || j.TotalRows != 2) {
					err = fmt.Errorf("job = %+v", j)
				}
				return err
			},
		},
		{
			name: "bulk users", method: "POST", path: "/v1/users/bulk_identify",
			do: func(c *userpilot.Client) error {
				jobs, err := c.BulkIdentifyUsers(context.Background(), []userpilot.User{
					{UserID: "u1", CompanyID: "c1", Metadata: map[string]any{"x": "y"}}, {UserID: "u2"},
				})
				if err == nil && (len(jobs) != 1 || jobs[0].ID != "bulk:jobs:a/b c") {
					err = fmt.Errorf("jobs = %+v", jobs)
				}
				return err
			},
			wantBody: `{"users":[{"user_id":"u1","company_id":"c1","metadata":{"x":"y"}},{"user_id":"u2"}]}`,
		},
		{
			name: "bulk companies", method: "POST", path: "/v1/companies/bulk_identify",
			do: func(c *userpilot.Client) error {
				_, err := c.BulkIdentifyCompanies(context.Background(), []userpilot.Company{{CompanyID: "c1", Metadata: map[string]any{"at": when}}})
				return err
			},
			wantBody: `{"companies":[{"company_id":"c1","metadata":{"at":"2026-03-01T09:20:30Z"}}]}`,
		},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				if strings.Contains(r.URL.Path, "bulk") || strings.Contains(r.URL.Path, "background_jobs") {
					writeJSON(w, 202, map[string]any{"job_id": "bulk:jobs:a/b c", "status": "completed", "total_rows": 2, "completed_rows": 2})
					return
				}
				w.WriteHeader(202)
			})
			c := newClient(t, s.srv.URL, tc.opts...)
			if err := tc.do(c); err != nil {
				t.Fatalf("call: %v", err)
			}
			reqs := s.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != tc.method || r.Path != tc.path {
				t.Errorf("request = %s %s, want %s %s", r.Method, r.Path, tc.method, tc.path)
			}
			for h, want := range map[string]string{"Authorization": "Token " + testKey, "X-API-Version": "2020-09-22", "Content-Type": "application/json"} {
				if got := r.Header.Get(h); got != want {
					t.Errorf("header %s = %q, want %q", h, got, want)
				}
			}
			if tc.wantBody == "" {
				if len(r.Body) != 0 {
					t.Errorf("body = %q, want none", r.Body)
				}
				return
			}
			jsonEqual(t, r.Body, tc.wantBody)
		})
	}
}

func TestInvalidInputIsRefusedBeforeSending(t *testing.T) {
	s := newStub(t, accepted)
	c := newClient(t, s.srv.URL)
	ctx := context.Background()
	type point struct{ X int }
	tests := []struct {
		name      string
		do        func() error
		wantField string
	}{
		{"nested map", func() error {
			return c.IdentifyUser(ctx, userpilot.User{UserID: "u", Metadata: map[string]any{"ok": 1, "addr": map[string]any{"x": 1}}})
		}, `metadata["addr"]`},
		{"slice", func() error {
			return c.IdentifyCompany(ctx, userpilot.Company{CompanyID: "c", Metadata: map[string]any{"tags": []string{"a"}}})
		}, `metadata["tags"]`},
		{"struct", func() error {
			return c.Track(ctx, userpilot.Event{UserID: "u", Name: "e", Metadata: map[string]any{"p": point{1}}})
		}, `metadata["p"]`},
		{"NaN", func() error {
			return c.IdentifyUser(ctx, userpilot.User{UserID: "u", Metadata: map[string]any{"n": nan()}})
		}, `metadata["n"]`},
		{"missing user id", func() error { return c.IdentifyUser(ctx, userpilot.User{}) }, "user_id"},
		{"missing company id", func() error { return c.IdentifyCompany(ctx, userpilot.Company{}) }, "company_id"},
		{"missing event name", func() error { return c.Track(ctx, userpilot.Event{UserID: "u"}) }, "event_name"},
		{"bulk row", func() error {
			_, err := c.BulkIdentifyUsers(ctx, []userpilot.User{{UserID: "a"}, {UserID: "b", Metadata: map[string]any{"l": [2]int{}}}})
			return err
		}, `users[1].metadata["l"]`},
		{"bulk missing id", func() error {
			_, err := c.BulkIdentifyCompanies(ctx, []userpilot.Company{{CompanyID: "a"}, {}})
			return err
		}, "companies[1].company_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			var ve *userpilot.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *ValidationError", err)
			}
			if ve.Field != tt.wantField {
				t.Errorf("Field = %q, want %q", ve.Field, tt.wantField)
			}
			if !userpilot.IsPermanent(err) || userpilot.IsRetryable(err) {
				t.Errorf("IsPermanent = %v, IsRetryable = %v; want true, false", userpilot.IsPermanent(err), userpilot.IsRetryable(err))
			}
		})
	}
	if n := len(s.requests()); n != 0 {
		t.Errorf("%d requests sent, want 0", n)
	}
}

func nan() float64 { z := 0.0; return z / z }

func TestRetries(t *testing.T) {
	tests := []struct {
		name        string
		answers     []func(http.ResponseWriter)
		maxRetries  int
		wantErr     bool
		wantCalls   int
		wantStatus  int // of the returned *APIError
		retryable   bool
		permanent   bool
		unauth      bool
		wantRetries int64
		wantLimited int64
	}{
		{
			name: "5xx then ok",
			answers: []func(http.ResponseWriter){
				func(w http.ResponseWriter) { writeJSON(w, 500, errBody("boom")) },
				func(w http.ResponseWriter) { w.WriteHeader(503) },
				func(w http.ResponseWriter) { w.WriteHeader(202) },
			},
			maxRetries: 5, wantCalls: 3, wantRetries: 2,
		},
		{
			name: "429 without Retry-After then ok",
			answers: []func(http.ResponseWriter){
				func(w http.ResponseWriter) { writeJSON(w, 429, errBody("rate_limit")) },
				func(w http.ResponseWriter) { w.WriteHeader(202) },
			},
			maxRetries: 5, wantCalls: 2, wantRetries: 1, wantLimited: 1,
		},
		{
			name: "dropped connection then ok",
			answers: []func(http.ResponseWriter){
				func(w http.ResponseWriter) {
					conn, _, _ := http.NewResponseController(w).Hijack()
					conn.Close()
				},
				func(w http.ResponseWriter) { w.WriteHeader(202) },
			},
			maxRetries: 5, wantCalls: 2, wantRetries: 1,
		},
		{
			name: "5xx until retries run out",
			answers: []func(http.ResponseWriter){
				func(w http.ResponseWriter) { writeJSON(w, 502, errBody("bad_gateway")) },
			},
			maxRetries: 2, wantErr: true, wantCalls: 3, wantStatus: 502, retryable: true, wantRetries: 2,
		},
		{
			name: "400 is permanent, not retried",
			answers: []func(http.ResponseWriter){
				func(w http.ResponseWriter) { writeJSON(w, 400, errBody("missing_user_id")) },
			},
			maxRetries: 5, wantErr: true, wantCalls: 1, wantStatus: 400, permanent: true,
		},
		{
			name: "401 is permanent and ErrUnauthorized",
			answers: []func(http.ResponseWriter){
				func(w http.ResponseWriter) { writeJSON(w, 401, errBody("invalid_api_key")) },
			},
			maxRetries: 5, wantErr: true, wantCalls: 1, wantStatus: 401, permanent: true, unauth: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStub(t, func(w http.ResponseWriter, _ *http.Request, n int) {
				tt.answers[min(n, len(tt.answers)-1)](w)
			})
			c := newClient(t, s.srv.URL, userpilot.WithMaxRetries(tt.maxRetries))
			err := c.IdentifyUser(context.Background(), userpilot.User{UserID: "u1"})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got := len(s.requests()); got != tt.wantCalls {
				t.Errorf("requests = %d, want %d", got, tt.wantCalls)
			}
			st := c.Stats()
			if st.Calls[userpilot.EndpointIdentify] != int64(tt.wantCalls) || st.Retries != tt.wantRetries || st.RateLimited != tt.wantLimited {
				t.Errorf("stats = %+v, want %d calls, %d retries, %d 429s", st, tt.wantCalls, tt.wantRetries, tt.wantLimited)
			}
			if !tt.wantErr {
				return
			}
			var ae *userpilot.APIError
			if !errors.As(err, &ae) || ae.Status != tt.wantStatus || ae.Endpoint != userpilot.EndpointIdentify {
				t.Fatalf("err = %v, want *APIError status %d", err, tt.wantStatus)
			}
			if len(ae.Errors) != 1 || ae.Errors[0].ErrorCode == "" {
				t.Errorf("Errors = %+v, want the parsed error body", ae.Errors)
			}
			if strings.Contains(err.Error(), "secret@example.com") {
				t.Errorf("error %q leaks the details field", err)
			}
			if userpilot.IsRetryable(err) != tt.retryable || userpilot.IsPermanent(err) != tt.permanent {
				t.Errorf("IsRetryable = %v, IsPermanent = %v; want %v, %v", userpilot.IsRetryable(err), userpilot.IsPermanent(err), tt.retryable, tt.permanent)
			}
			if errors.Is(err, userpilot.ErrUnauthorized) != tt.unauth {
				t.Errorf("errors.Is(ErrUnauthorized) = %v, want %v", !tt.unauth, tt.unauth)
			}
		})
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	var first time.Time
	var gap time.Duration
	s := newStub(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 0 {
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			writeJSON(w, 429, errBody("rate_limit"))
			return
		}
		gap = time.Since(first)
		w.WriteHeader(202)
	})
	c := newClient(t, s.srv.URL)
	if err := c.IdentifyCompany(context.Background(), userpilot.Company{CompanyID: "c"}); err != nil {
		t.Fatal(err)
	}
	if gap < 900*time.Millisecond {
		t.Errorf("retried after %s, want >= Retry-After 1s", gap)
	}
	if st := c.Stats(); st.RateLimited != 1 || st.BackoffWait < time.Second {
		t.Errorf("stats = %+v", st)
	}
}

func TestRateLimitErrorWhenRetriesExhausted(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, _ *http.Request, _ int) { writeJSON(w, 429, errBody("rate_limit")) })
	c := newClient(t, s.srv.URL, userpilot.WithMaxRetries(0))
	err := c.IdentifyUser(context.Background(), userpilot.User{UserID: "u"})
	var rl *userpilot.RateLimitError
	var ae *userpilot.APIError
	if !errors.As(err, &rl) || !errors.As(err, &ae) || ae.Status != 429 {
		t.Fatalf("err = %v, want *RateLimitError (and *APIError 429)", err)
	}
	if !userpilot.IsRetryable(err) || userpilot.IsPermanent(err) {
		t.Error("a 429 must be retryable, not permanent")
	}
}

func TestPerAttemptTimeout(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 0 {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
			return
		}
		w.WriteHeader(202)
	})
	c := newClient(t, s.srv.URL, userpilot.WithTimeout(100*time.Millisecond))
	start := time.Now()
	if err := c.IdentifyUser(context.Background(), userpilot.User{UserID: "u"}); err != nil {
		t.Fatalf("err = %v, want success after a timed-out attempt", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %s, want the 100ms timeout to cut the slow attempt", d)
	}
	if st := c.Stats(); st.Retries != 1 {
		t.Errorf("retries = %d, want 1", st.Retries)
	}
}

func TestContextEndsBackoff(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(503) })
	c := newClient(t, s.srv.URL, userpilot.WithBackoff(5*time.Second, 10*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.IdentifyUser(ctx, userpilot.User{UserID: "u"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if userpilot.IsRetryable(err) {
		t.Error("the caller's own deadline reported as retryable")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned after %s, want at the 100ms deadline", d)
	}
}

// jobStub answers bulk submissions from conflicts (number of 409s first)
// and job polls from statuses in order.
func jobStub(t *testing.T, conflicts int, statuses []string) *stub {
	t.Helper()
	var mu sync.Mutex
	polls := 0
	submits := 0
	return newStub(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		mu.Lock()
		defer mu.Unlock()
		if r.Method == "POST" {
			submits++
			if submits <= conflicts {
				writeJSON(w, 409, errBody("job_in_progress"))
				return
			}
			writeJSON(w, 202, map[string]any{"job_id": fmt.Sprintf("bulk:jobs:%d", submits), "status": "queued", "total_rows": 4, "completed_rows": 0})
			return
		}
		st := statuses[min(polls, len(statuses)-1)]
		polls++
		done := 2
		if st == "completed" {
			done = 4
		}
		id := strings.TrimPrefix(r.URL.Path, "/v1/background_jobs/")
		writeJSON(w, 200, map[string]any{"job_id": id, "status": st, "total_rows": 4, "completed_rows": done})
	})
}

func TestBulkWaitsOn409AndPolls(t *testing.T) {
	s := jobStub(t, 2, []string{"validating", "processing", "pending_refresh", "completed"})
	c := newClient(t, s.srv.URL)
	jobs, err := c.BulkIdentifyUsers(context.Background(), []userpilot.User{{UserID: "a"}, {UserID: "b"}, {UserID: "c"}, {UserID: "d"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []userpilot.Job{{ID: "bulk:jobs:3", Status: "completed", TotalRows: 4, CompletedRows: 4}}
	if !reflect.DeepEqual(jobs, want) {
		t.Errorf("jobs = %+v, want %+v", jobs, want)
	}
	var got []string
	for _, r := range s.requests() {
		got = append(got, r.Method+" "+r.Path)
	}
	wantReqs := []string{
		"POST /v1/users/bulk_identify", "POST /v1/users/bulk_identify", "POST /v1/users/bulk_identify",
		"GET /v1/background_jobs/bulk%3Ajobs%3A3", "GET /v1/background_jobs/bulk%3Ajobs%3A3",
		"GET /v1/background_jobs/bulk%3Ajobs%3A3", "GET /v1/background_jobs/bulk%3Ajobs%3A3",
	}
	if !reflect.DeepEqual(got, wantReqs) {
		t.Errorf("requests:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantReqs, "\n"))
	}
	st := c.Stats()
	if st.Conflicts != 2 || st.Calls[userpilot.EndpointUsersBulk] != 3 || st.Calls[userpilot.EndpointBackgroundJobs] != 4 || st.JobWait <= 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestBulkFailedJobNamesTheJob(t *testing.T) {
	s := jobStub(t, 0, []string{"processing", "failed"})
	c := newClient(t, s.srv.URL)
	jobs, err := c.BulkIdentifyCompanies(context.Background(), []userpilot.Company{{CompanyID: "a"}})
	var je *userpilot.JobError
	if !errors.As(err, &je) || je.Job.ID != "bulk:jobs:1" {
		t.Fatalf("err = %v, want *JobError for bulk:jobs:1", err)
	}
	if !strings.Contains(err.Error(), "bulk:jobs:1") {
		t.Errorf("error %q does not name the job", err)
	}
	if len(jobs) != 1 || jobs[0].Status != "failed" {
		t.Errorf("jobs = %+v, want the failed job returned", jobs)
	}
}

func TestBulkConflictWaitGivesUp(t *testing.T) {
	s := jobStub(t, 1<<30, nil)
	c := newClient(t, s.srv.URL, userpilot.WithJobPolling(5*time.Millisecond, 10*time.Millisecond, 60*time.Millisecond))
	_, err := c.BulkIdentifyUsers(context.Background(), []userpilot.User{{UserID: "a"}})
	var ae *userpilot.APIError
	if !errors.As(err, &ae) || ae.Status != 409 {
		t.Fatalf("err = %v, want the 409 after the conflict wait", err)
	}
	if !userpilot.IsRetryable(err) {
		t.Error("409 should be retryable later")
	}
}

func TestBulkWithoutJobIDIsRetried(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 0 {
			w.WriteHeader(202) // 2xx, no job
			return
		}
		writeJSON(w, 202, map[string]any{"job_id": "bulk:jobs:x", "status": "completed", "total_rows": 1, "completed_rows": 1})
	})
	c := newClient(t, s.srv.URL)
	jobs, err := c.BulkIdentifyUsers(context.Background(), []userpilot.User{{UserID: "a"}})
	if err != nil || len(jobs) != 1 {
		t.Fatalf("jobs %+v err %v", jobs, err)
	}
	if n := len(s.requests()); n != 2 {
		t.Errorf("requests = %d, want 2", n)
	}

	never := newStub(t, func(w http.ResponseWriter, r *http.Request, n int) { w.WriteHeader(202) })
	c = newClient(t, never.srv.URL, userpilot.WithMaxRetries(2))
	_, err = c.BulkIdentifyUsers(context.Background(), []userpilot.User{{UserID: "a"}})
	if err == nil || !userpilot.IsRetryable(err) {
		t.Errorf("err = %v, want a retryable error", err)
	}
}

func TestBulkEmptyInputSendsNothing(t *testing.T) {
	s := newStub(t, accepted)
	c := newClient(t, s.srv.URL)
	jobs, err := c.BulkIdentifyUsers(context.Background(), nil)
	if err != nil || jobs != nil || len(s.requests()) != 0 {
		t.Errorf("jobs %v err %v requests %d; want nothing", jobs, err, len(s.requests()))
	}
}

func TestLogsCarryNoSecrets(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n < 2 {
			writeJSON(w, 503, errBody("down"))
			return
		}
		w.WriteHeader(202)
	})
	c := newClient(t, s.srv.URL, userpilot.WithLogger(logger))
	if err := c.IdentifyUser(context.Background(), userpilot.User{UserID: "jane@example.com", Metadata: map[string]any{"email": "jane@example.com"}}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "retrying") {
		t.Errorf("no retry logged: %s", out)
	}
	for _, secret := range []string{testKey, "jane@example.com", "secret@example.com"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q: %s", secret, out)
		}
	}
}

func TestNewClientOptions(t *testing.T) {
	if _, err := userpilot.NewClient(""); err == nil {
		t.Error("empty key: want error")
	}
	bad := []userpilot.Option{
		userpilot.WithBaseURL("not a url"),
		userpilot.WithCompanyKey("companyId"),
		userpilot.WithTimeout(0),
		userpilot.WithMaxRetries(-1),
		userpilot.WithRateLimit(0, time.Minute),
		userpilot.WithBackoff(time.Second, time.Millisecond),
		userpilot.WithHTTPClient(nil),
	}
	for i, o := range bad {
		if _, err := userpilot.NewClient(testKey, o); err == nil {
			t.Errorf("option %d: want error", i)
		}
	}
	c, err := userpilot.NewClient("STG-abc")
	if err != nil {
		t.Fatal(err)
	}
	if c.Environment() != userpilot.EnvStaging || c.BaseURL() != userpilot.DefaultBaseURL {
		t.Errorf("Environment %q BaseURL %q", c.Environment(), c.BaseURL())
	}
	if userpilot.KeyEnvironment("abc") != userpilot.EnvProduction {
		t.Error("non-STG key should be production")
	}
	c, _ = userpilot.NewClient(testKey, userpilot.WithBaseURL(userpilot.EUBaseURL+"/"))
	if c.BaseURL() != userpilot.EUBaseURL {
		t.Errorf("BaseURL = %q", c.BaseURL())
	}
}
