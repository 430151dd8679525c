package userpilottest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/userpilot/userpilottest"
)

// fakeClock is a settable clock for jobs and the rate window.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) errorCode(t *testing.T) (code, details string) {
	t.Helper()
	var eb struct {
		Errors []userpilottest.ErrorDetail `json:"errors"`
	}
	if err := json.Unmarshal(r.body, &eb); err != nil || len(eb.Errors) != 1 {
		t.Fatalf("error body %q: want {\"errors\":[one entry]} (err %v)", r.body, err)
	}
	e := eb.Errors[0]
	if e.Error == "" || e.Message == "" {
		t.Errorf("error entry %+v: want error and message set", e)
	}
	return e.ErrorCode, e.Details
}

// send makes a raw request with the standard headers; hdr overrides them
// ("" deletes).
func send(t *testing.T, base, method, path string, body any, hdr map[string]string) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Token "+userpilottest.DefaultAPIKey)
	req.Header.Set("X-API-Version", userpilottest.APIVersion)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

func post(t *testing.T, s *userpilottest.Server, path string, body any) response {
	t.Helper()
	return send(t, s.URL, http.MethodPost, path, body, nil)
}

func TestAuthAndHeaders(t *testing.T) {
	s := userpilottest.NewTestServer(t, userpilottest.Options{})
	body := map[string]any{"user_id": "u1"}
	tests := []struct {
		name     string
		hdr      map[string]string
		opts     userpilottest.Options
		want     int
		wantCode string
	}{
		{"ok", nil, userpilottest.Options{}, 202, ""},
		{"lower-case token scheme", map[string]string{"Authorization": "token " + userpilottest.DefaultAPIKey}, userpilottest.Options{}, 202, ""},
		{"wrong key", map[string]string{"Authorization": "Token nope"}, userpilottest.Options{}, 401, "invalid_api_key"},
		{"bearer scheme", map[string]string{"Authorization": "Bearer " + userpilottest.DefaultAPIKey}, userpilottest.Options{}, 401, "invalid_api_key"},
		{"no auth", map[string]string{"Authorization": ""}, userpilottest.Options{}, 401, "invalid_api_key"},
		{"no api version", map[string]string{"X-API-Version": ""}, userpilottest.Options{}, 400, "invalid_api_version"},
		{"wrong api version", map[string]string{"X-API-Version": "2019-01-01"}, userpilottest.Options{}, 400, "invalid_api_version"},
		{"no api version allowed", map[string]string{"X-API-Version": ""}, userpilottest.Options{AllowMissingAPIVersion: true}, 202, ""},
		{"not json", map[string]string{"Content-Type": "text/plain"}, userpilottest.Options{}, 415, "invalid_content_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := s
			if tt.opts.AllowMissingAPIVersion {
				srv = userpilottest.NewTestServer(t, tt.opts)
			}
			got := send(t, srv.URL, http.MethodPost, "/v1/identify", body, tt.hdr)
			if got.status != tt.want {
				t.Fatalf("status = %d, want %d (body %s)", got.status, tt.want, got.body)
			}
			if tt.wantCode != "" {
				if code, _ := got.errorCode(t); code != tt.wantCode {
					t.Errorf("error_code = %q, want %q", code, tt.wantCode)
				}
			}
		})
	}
}

func TestStagingKey(t *testing.T) {
	s := userpilottest.NewTestServer(t, userpilottest.Options{APIKey: "STG-abc"})
	if got := s.Environment(); got != "staging" {
		t.Errorf("Environment() = %q, want staging", got)
	}
	if got := send(t, s.URL, "POST", "/v1/identify", map[string]any{"user_id": "u"}, nil); got.status != 401 {
		t.Errorf("production key on staging server: status %d, want 401", got.status)
	}
	if got := send(t, s.URL, "POST", "/v1/identify", map[string]any{"user_id": "u"}, map[string]string{"Authorization": "Token STG-abc"}); got.status != 202 {
		t.Errorf("staging key: status %d, want 202", got.status)
	}
	if p := userpilottest.NewTestServer(t, userpilottest.Options{}); p.Environment() != "production" {
		t.Errorf("default Environment() = %q, want production", p.Environment())
	}
}

func TestIdentifyMergesAndLinks(t *testing.T) {
	s := userpilottest.NewTestServer(t, userpilottest.Options{})
	steps := []map[string]any{
		{"user_id": "u1", "metadata": map[string]any{"email": "a@b.com", "plan": "pro", "seats": 3}},
		{"user_id": "u1", "metadata": map[string]any{"plan": nil, "trial": true}, "company": map[string]any{"id": "c1", "name": "Acme"}},
		{"user_id": "u1", "metadata": map[string]any{"seats": 4}},
	}
	for i, b := range steps {
		if got := post(t, s, "/v1/identify", b); got.status != http.StatusAccepted {
			t.Fatalf("step %d: status %d, body %s", i, got.status, got.body)
		}
	}
	u, ok := s.User("u1")
	if !ok {
		t.Fatal("user u1 not stored")
	}
	want := map[string]any{"email": "a@b.com", "seats": 4.0, "trial": true}
	if !reflect.DeepEqual(u.Metadata, want) {
		t.Errorf("metadata = %v, want %v", u.Metadata, want)
	}
	if u.CompanyID != "c1" {
		t.Errorf("CompanyID = %q, want c1", u.CompanyID)
	}
	c, ok := s.Company("c1")
	if !ok || c.Metadata["name"] != "Acme" {
		t.Errorf("company c1 = %+v, %v; want name Acme", c, ok)
	}
	if _, ok := c.Metadata["id"]; ok {
		t.Error("company id key stored as a property")
	}
	if n := len(s.Users()); n != 1 {
		t.Errorf("len(Users()) = %d, want 1", n)
	}
}

func TestIdentifyCompanyKeyOption(t *testing.T) {
	tests := []struct {
		opt, sent string
		wantLink  bool
	}{
		{"", "id", true},
		{"", "company_id", true},
		{"id", "id", true},
		{"id", "company_id", false},
		{"company_id", "company_id", true},
		{"company_id", "id", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("opt=%q/sent=%q", tt.opt, tt.sent), func(t *testing.T) {
			s := userpilottest.NewTestServer(t, userpilottest.Options{IdentifyCompanyKey: tt.opt})
			got := post(t, s, "/v1/identify", map[string]any{"user_id": "u1", "company": map[string]any{tt.sent: "c1"}})
			if tt.wantLink {
				if got.status != 202 {
					t.Fatalf("status %d, want 202 (%s)", got.status, got.body)
				}
				if u, _ := s.User("u1"); u.CompanyID != "c1" {
					t.Errorf("CompanyID = %q, want c1", u.CompanyID)
				}
				return
			}
			if got.status != 400 {
				t.Fatalf("status %d, want 400", got.status)
			}
			if code, _ := got.errorCode(t); code != userpilottest.CodeMissingCompanyID {
				t.Errorf("code %q, want %q", code, userpilottest.CodeMissingCompanyID)
			}
			if _, ok := s.User("u1"); ok {
				t.Error("a refused identify stored the user")
			}
		})
	}
}

func TestValidation(t *testing.T) {
	s := userpilottest.NewTestServer(t, userpilottest.Options{MaxBulkRecords: 3})
	tests := []struct {
		name        string
		path        string
		body        any
		wantCode    string
		wantDetails string
	}{
		{"bad json", "/v1/identify", "{", userpilottest.CodeInvalidJSON, ""},
		{"array body", "/v1/identify", "[]", userpilottest.CodeInvalidJSON, ""},
		{"missing user_id", "/v1/identify", map[string]any{"metadata": map[string]any{}}, userpilottest.CodeMissingUserID, "user_id"},
		{"numeric user_id", "/v1/identify", map[string]any{"user_id": 7}, userpilottest.CodeMissingUserID, "user_id"},
		{"nested metadata", "/v1/identify", map[string]any{"user_id": "u", "metadata": map[string]any{"ok": 1, "tags": []string{"a"}}}, userpilottest.CodeInvalidMetadata, "metadata.tags"},
		{"object metadata value", "/v1/identify", map[string]any{"user_id": "u", "metadata": map[string]any{"addr": map[string]any{"x": 1}}}, userpilottest.CodeInvalidMetadata, "metadata.addr"},
		{"metadata not object", "/v1/identify", map[string]any{"user_id": "u", "metadata": "x"}, userpilottest.CodeInvalidMetadata, "metadata"},
		{"company without id", "/v1/identify", map[string]any{"user_id": "u", "company": map[string]any{"name": "x"}}, userpilottest.CodeMissingCompanyID, "company.id"},
		{"company nested", "/v1/identify", map[string]any{"user_id": "u", "company": map[string]any{"id": "c", "x": []int{1}}}, userpilottest.CodeInvalidMetadata, "company.x"},
		{"company missing id", "/v1/companies/identify", map[string]any{"metadata": map[string]any{}}, userpilottest.CodeMissingCompanyID, "company_id"},
		{"company nested metadata", "/v1/companies/identify", map[string]any{"company_id": "c", "metadata": map[string]any{"m": map[string]any{}}}, userpilottest.CodeInvalidMetadata, "metadata.m"},
		{"track missing event", "/v1/track", map[string]any{"user_id": "u"}, userpilottest.CodeMissingEventName, "event_name"},
		{"track unknown user", "/v1/track", map[string]any{"user_id": "ghost", "event_name": "x"}, userpilottest.CodeUserNotFound, "user_id"},
		{"bulk empty", "/v1/users/bulk_identify", map[string]any{"users": []any{}}, userpilottest.CodeInvalidJSON, "users"},
		{"bulk too many", "/v1/users/bulk_identify", map[string]any{"users": []any{map[string]any{"user_id": "1"}, map[string]any{"user_id": "2"}, map[string]any{"user_id": "3"}, map[string]any{"user_id": "4"}}}, userpilottest.CodeTooManyRecords, "users"},
		{"bulk row missing id", "/v1/users/bulk_identify", map[string]any{"users": []any{map[string]any{"user_id": "1"}, map[string]any{"metadata": map[string]any{}}}}, userpilottest.CodeMissingUserID, "users[1].user_id"},
		{"bulk row nested", "/v1/companies/bulk_identify", map[string]any{"companies": []any{map[string]any{"company_id": "1", "metadata": map[string]any{"l": []int{}}}}}, userpilottest.CodeInvalidMetadata, "companies[0].metadata.l"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := post(t, s, tt.path, tt.body)
			if got.status != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400 (body %s)", got.status, got.body)
			}
			code, details := got.errorCode(t)
			if code != tt.wantCode || details != tt.wantDetails {
				t.Errorf("error = %q / %q, want %q / %q", code, details, tt.wantCode, tt.wantDetails)
			}
		})
	}
	if n := len(s.Users()) + len(s.Companies()) + len(s.Jobs()); n != 0 {
		t.Errorf("refused requests stored %d users/companies/jobs, want 0", n)
	}
}

func TestTrackAndCompaniesIdentify(t *testing.T) {
	s := userpilottest.NewTestServer(t, userpilottest.Options{})
	if got := post(t, s, "/v1/companies/identify", map[string]any{"company_id": "c1", "metadata": map[string]any{"plan": "pro", "mrr": 10}}); got.status != 202 {
		t.Fatalf("companies identify: %d %s", got.status, got.body)
	}
	post(t, s, "/v1/companies/identify", map[string]any{"company_id": "c1", "metadata": map[string]any{"plan": nil}})
	if c, _ := s.Company("c1"); !reflect.DeepEqual(c.Metadata, map[string]any{"mrr": 10.0}) {
		t.Errorf("company metadata = %v, want mrr only", c.Metadata)
	}
	s.PutUser(userpilottest.User{ID: "u1"})
	if got := post(t, s, "/v1/track", map[string]any{"user_id": "u1", "event_name": "clicked", "metadata": map[string]any{"n": 1}}); got.status != 202 {
		t.Fatalf("track: %d %s", got.status, got.body)
	}
	ev := s.Events()
	if len(ev) != 1 || ev[0].UserID != "u1" || ev[0].Name != "clicked" || ev[0].Metadata["n"] != 1.0 {
		t.Errorf("events = %+v", ev)
	}
}

func jobOf(t *testing.T, r response) map[string]any {
	t.Helper()
	var j map[string]any
	if err := json.Unmarshal(r.body, &j); err != nil {
		t.Fatalf("job body %q: %v", r.body, err)
	}
	return j
}

func TestBulkJobLifecycle(t *testing.T) {
	clock := newClock()
	s := userpilottest.NewTestServer(t, userpilottest.Options{Clock: clock.Now, JobDuration: 10 * time.Second})
	users := make([]any, 100)
	for i := range users {
		users[i] = map[string]any{"user_id": fmt.Sprintf("u%d", i), "company_id": "c1", "metadata": map[string]any{"i": i}}
	}
	got := post(t, s, "/v1/users/bulk_identify", map[string]any{"users": users})
	if got.status != http.StatusAccepted {
		t.Fatalf("bulk: %d %s", got.status, got.body)
	}
	j := jobOf(t, got)
	id, _ := j["job_id"].(string)
	if !strings.HasPrefix(id, "bulk:jobs:") || j["status"] != "queued" || j["total_rows"] != 100.0 || j["completed_rows"] != 0.0 {
		t.Fatalf("new job = %v", j)
	}
	// A second job of either kind while this one runs: 409.
	second := post(t, s, "/v1/companies/bulk_identify", map[string]any{"companies": []any{map[string]any{"company_id": "c9"}}})
	if second.status != http.StatusConflict {
		t.Fatalf("second bulk: status %d, want 409", second.status)
	}
	if code, details := second.errorCode(t); code != userpilottest.CodeJobInProgress || details != id {
		t.Errorf("409 error = %q/%q, want %q/%q", code, details, userpilottest.CodeJobInProgress, id)
	}

	path := "/v1/background_jobs/" + strings.ReplaceAll(url.QueryEscape(id), "+", "%20")
	steps := []struct {
		advance    time.Duration
		wantStatus string
		minRows    float64
		maxRows    float64
	}{
		{500 * time.Millisecond, "queued", 0, 0},
		{time.Second, "validating", 0, 0},
		{4 * time.Second, "processing", 30, 60},
		{5 * time.Second, "completed", 100, 100},
	}
	for _, st := range steps {
		clock.Advance(st.advance)
		r := send(t, s.URL, http.MethodGet, path, nil, nil)
		if r.status != http.StatusOK {
			t.Fatalf("poll: %d %s", r.status, r.body)
		}
		j := jobOf(t, r)
		rows := j["completed_rows"].(float64)
		if j["status"] != st.wantStatus || rows < st.minRows || rows > st.maxRows {
			t.Errorf("after +%s: status %v rows %v, want %s rows %v..%v", st.advance, j["status"], rows, st.wantStatus, st.minRows, st.maxRows)
		}
		if st.wantStatus != "completed" {
			if n := len(s.Users()); n != 0 {
				t.Errorf("status %s: %d users written, want 0 before completion", st.wantStatus, n)
			}
		}
	}
	if n := len(s.Users()); n != 100 {
		t.Errorf("users after completion = %d, want 100", n)
	}
	if u, _ := s.User("u42"); u.CompanyID != "c1" || u.Metadata["i"] != 42.0 {
		t.Errorf("u42 = %+v", u)
	}
	if _, ok := s.Company("c1"); !ok {
		t.Error("bulk user's company not created")
	}
	// Unescaped colons reach the same job; an unknown job is 404.
	if r := send(t, s.URL, http.MethodGet, "/v1/background_jobs/"+id, nil, nil); r.status != 200 {
		t.Errorf("unescaped id: status %d", r.status)
	}
	if r := send(t, s.URL, http.MethodGet, "/v1/background_jobs/bulk%3Ajobs%3Anope", nil, nil); r.status != 404 {
		t.Errorf("unknown job: status %d, want 404", r.status)
	}
	// Now a new job is accepted.
	if r := post(t, s, "/v1/companies/bulk_identify", map[string]any{"companies": []any{map[string]any{"company_id": "c9", "metadata": map[string]any{"x": "y"}}}}); r.status != 202 {
		t.Errorf("bulk after completion: %d", r.status)
	}
	clock.Advance(10 * time.Second)
	if c, ok := s.Company("c9"); !ok || c.Metadata["x"] != "y" {
		t.Errorf("c9 = %+v %v", c, ok)
	}
	jobs := s.Jobs()
	if len(jobs) != 2 || jobs[0].Status != "completed" || jobs[1].Status != "completed" || jobs[1].Type != "companies_bulk_identify" {
		t.Errorf("Jobs() = %+v", jobs)
	}
}

func TestFailedJob(t *testing.T) {
	s := userpilottest.NewTestServer(t, userpilottest.Options{JobDuration: -1})
	s.FailNextJob(1)
	users := []any{map[string]any{"user_id": "a"}, map[string]any{"user_id": "b"}, map[string]any{"user_id": "c"}, map[string]any{"user_id": "d"}}
	j := jobOf(t, post(t, s, "/v1/users/bulk_identify", map[string]any{"users": users}))
	if j["status"] != "failed" || j["completed_rows"] != 2.0 {
		t.Errorf("failed job = %v, want failed with 2 rows", j)
	}
	if n := len(s.Users()); n != 2 {
		t.Errorf("users = %d, want 2 (half written)", n)
	}
	j = jobOf(t, post(t, s, "/v1/users/bulk_identify", map[string]any{"users": users}))
	if j["status"] != "completed" {
		t.Errorf("next job = %v, want completed", j)
	}
}

func TestRateLimit(t *testing.T) {
	clock := newClock()
	s := userpilottest.NewTestServer(t, userpilottest.Options{Clock: clock.Now, RateLimit: 5, RateWindow: 10 * time.Second})
	body := map[string]any{"user_id": "u"}
	for i := range 5 {
		if got := post(t, s, "/v1/identify", body); got.status != 202 {
			t.Fatalf("request %d: %d", i, got.status)
		}
		clock.Advance(time.Second)
	}
	// 5 accepted at t=0..4s; at t=5s the window (t-10s, t] holds 5.
	got := post(t, s, "/v1/identify", body)
	if got.status != http.StatusTooManyRequests {
		t.Fatalf("6th: %d, want 429", got.status)
	}
	if code, _ := got.errorCode(t); code != "rate_limit_exceeded" {
		t.Errorf("code %q", code)
	}
	if ra := got.header.Get("Retry-After"); ra != "5" {
		t.Errorf("Retry-After = %q, want 5", ra)
	}
	// Other endpoints share the token's budget.
	if got := send(t, s.URL, "GET", "/v1/background_jobs/x", nil, nil); got.status != 429 {
		t.Errorf("background_jobs while limited: %d, want 429", got.status)
	}
	clock.Advance(5 * time.Second) // t=10s: the t=0 request left the window
	if got := post(t, s, "/v1/identify", body); got.status != 202 {
		t.Errorf("after window slid: %d, want 202", got.status)
	}
	if got := post(t, s, "/v1/identify", body); got.status != 429 {
		t.Errorf("then: %d, want 429", got.status)
	}
	// A wrong token is refused before it counts.
	if got := send(t, s.URL, "POST", "/v1/identify", body, map[string]string{"Authorization": "Token x"}); got.status != 401 {
		t.Errorf("wrong token: %d, want 401", got.status)
	}
	unlimited := userpilottest.NewTestServer(t, userpilottest.Options{RateLimit: -1})
	for range 700 {
		if got := post(t, unlimited, "/v1/identify", body); got.status != 202 {
			t.Fatalf("unlimited: %d", got.status)
		}
	}
}

func TestDefaultRateLimit(t *testing.T) {
	clock := newClock()
	s := userpilottest.NewTestServer(t, userpilottest.Options{Clock: clock.Now})
	body := map[string]any{"user_id": "u"}
	for i := range 600 {
		if got := post(t, s, "/v1/identify", body); got.status != 202 {
			t.Fatalf("request %d: %d", i, got.status)
		}
	}
	if got := post(t, s, "/v1/identify", body); got.status != 429 {
		t.Errorf("601st within a minute: %d, want 429", got.status)
	}
	clock.Advance(time.Minute)
	if got := post(t, s, "/v1/identify", body); got.status != 202 {
		t.Errorf("a minute later: %d, want 202", got.status)
	}
}

func TestFaults(t *testing.T) {
	t.Run("5xx limited by Max", func(t *testing.T) {
		s := userpilottest.NewTestServer(t, userpilottest.Options{})
		s.SetFault(userpilottest.EndpointIdentify, userpilottest.Fault{Rate5xx: 1, Max: 2, Status: 502})
		var got []int
		for range 3 {
			got = append(got, post(t, s, "/v1/identify", map[string]any{"user_id": "u"}).status)
		}
		if !reflect.DeepEqual(got, []int{502, 502, 202}) {
			t.Errorf("statuses = %v, want [502 502 202]", got)
		}
		// Other endpoints are unaffected.
		if r := post(t, s, "/v1/companies/identify", map[string]any{"company_id": "c"}); r.status != 202 {
			t.Errorf("companies_identify: %d", r.status)
		}
	})
	t.Run("429", func(t *testing.T) {
		s := userpilottest.NewTestServer(t, userpilottest.Options{})
		s.SetFault(userpilottest.AllEndpoints, userpilottest.Fault{Rate429: 1})
		r := post(t, s, "/v1/companies/identify", map[string]any{"company_id": "c"})
		if r.status != 429 || r.header.Get("Retry-After") != "1" {
			t.Errorf("status %d Retry-After %q", r.status, r.header.Get("Retry-After"))
		}
		s.ClearFaults()
		if r := post(t, s, "/v1/companies/identify", map[string]any{"company_id": "c"}); r.status != 202 {
			t.Errorf("after ClearFaults: %d", r.status)
		}
	})
	t.Run("drop", func(t *testing.T) {
		s := userpilottest.NewTestServer(t, userpilottest.Options{})
		s.SetFault(userpilottest.EndpointIdentify, userpilottest.Fault{RateDrop: 1})
		req, _ := http.NewRequest("POST", s.URL+"/v1/identify", strings.NewReader(`{"user_id":"u"}`))
		req.Header.Set("Authorization", "Token "+userpilottest.DefaultAPIKey)
		req.Header.Set("X-API-Version", userpilottest.APIVersion)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("dropped connection answered %d", resp.StatusCode)
		}
		if _, ok := s.User("u"); ok {
			t.Error("dropped request was written")
		}
		if reqs := s.Requests(); len(reqs) != 1 || reqs[0].Status != 0 {
			t.Errorf("requests = %+v, want one with status 0", reqs)
		}
	})
	t.Run("empty 2xx", func(t *testing.T) {
		s := userpilottest.NewTestServer(t, userpilottest.Options{JobDuration: -1})
		s.SetFault(userpilottest.AllEndpoints, userpilottest.Fault{RateEmpty2xx: 1})
		if r := post(t, s, "/v1/identify", map[string]any{"user_id": "u"}); r.status != 202 {
			t.Errorf("identify: %d", r.status)
		}
		r := post(t, s, "/v1/users/bulk_identify", map[string]any{"users": []any{map[string]any{"user_id": "b"}}})
		if r.status != 202 || len(r.body) != 0 {
			t.Errorf("bulk: %d %q, want 202 and no body", r.status, r.body)
		}
		if n := len(s.Users()) + len(s.Jobs()); n != 0 {
			t.Errorf("empty 2xx wrote %d users/jobs", n)
		}
	})
	t.Run("slow", func(t *testing.T) {
		s := userpilottest.NewTestServer(t, userpilottest.Options{})
		s.SetFault(userpilottest.EndpointIdentify, userpilottest.Fault{RateSlow: 1, Slow: 200 * time.Millisecond})
		start := time.Now()
		if r := post(t, s, "/v1/identify", map[string]any{"user_id": "u"}); r.status != 202 {
			t.Errorf("slow: %d", r.status)
		}
		if d := time.Since(start); d < 200*time.Millisecond {
			t.Errorf("answered after %s, want >= 200ms", d)
		}
	})
	t.Run("seeded rates repeat", func(t *testing.T) {
		run := func(seed int64) []int {
			s := userpilottest.NewTestServer(t, userpilottest.Options{Seed: seed})
			s.SetFault(userpilottest.EndpointIdentify, userpilottest.Fault{Rate5xx: 0.3, Rate429: 0.2})
			var out []int
			for range 40 {
				out = append(out, post(t, s, "/v1/identify", map[string]any{"user_id": "u"}).status)
			}
			return out
		}
		a, b := run(7), run(7)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("same seed, different faults:\n%v\n%v", a, b)
		}
		counts := map[int]int{}
		for _, st := range a {
			counts[st]++
		}
		if counts[503] < 4 || counts[429] < 2 || counts[202] < 10 {
			t.Errorf("status mix %v, want roughly 30%% 503, 20%% 429", counts)
		}
	})
}

func TestInspection(t *testing.T) {
	s := userpilottest.NewTestServer(t, userpilottest.Options{JobDuration: -1})
	post(t, s, "/v1/identify", map[string]any{"user_id": "u1"})
	post(t, s, "/v1/identify", map[string]any{"user_id": "u2"})
	j := jobOf(t, post(t, s, "/v1/users/bulk_identify", map[string]any{"users": []any{map[string]any{"user_id": "u3"}}}))
	send(t, s.URL, "GET", "/v1/background_jobs/"+url.QueryEscape(j["job_id"].(string)), nil, nil)
	send(t, s.URL, "GET", "/v2/nothing", nil, nil)
	want := map[string]int{"identify": 2, "users_bulk": 1, "background_jobs": 1, "unknown": 1, "track": 0}
	for ep, n := range want {
		if got := s.Count(ep); got != n {
			t.Errorf("Count(%q) = %d, want %d", ep, got, n)
		}
	}
	reqs := s.Requests()
	if len(reqs) != 5 {
		t.Fatalf("len(Requests()) = %d, want 5", len(reqs))
	}
	var body struct {
		UserID string `json:"user_id"`
	}
	if err := reqs[1].Decode(&body); err != nil || body.UserID != "u2" || reqs[1].Method != "POST" || reqs[1].Path != "/v1/identify" || reqs[1].Status != 202 {
		t.Errorf("request 1 = %+v (%v)", reqs[1], err)
	}
	if !strings.Contains(reqs[3].Path, "%3A") {
		t.Errorf("recorded path %q, want the escaped form", reqs[3].Path)
	}
	if reqs[4].Status != 404 {
		t.Errorf("unknown path status %d, want 404", reqs[4].Status)
	}
	s.ResetRequests()
	if len(s.Requests()) != 0 || s.Count("identify") != 0 {
		t.Error("ResetRequests kept requests")
	}
	if len(s.Users()) != 3 {
		t.Error("ResetRequests dropped state")
	}
	// Returned state is a copy.
	u, _ := s.User("u1")
	u.Metadata["x"] = 1
	if u2, _ := s.User("u1"); len(u2.Metadata) != 0 {
		t.Error("User() returned shared metadata")
	}
}

func TestConcurrentRequests(t *testing.T) {
	s := userpilottest.NewTestServer(t, userpilottest.Options{RateLimit: -1})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				b := map[string]any{"user_id": fmt.Sprintf("u%d", i), "metadata": map[string]any{fmt.Sprintf("g%d", g): i}}
				if r := post(t, s, "/v1/identify", b); r.status != 202 {
					t.Errorf("status %d", r.status)
				}
				_ = s.Users()
			}
		})
	}
	wg.Wait()
	users := s.Users()
	if len(users) != 25 {
		t.Fatalf("users = %d, want 25", len(users))
	}
	if got := len(users["u3"].Metadata); got != 8 {
		t.Errorf("u3 has %d properties, want 8 (one per goroutine)", got)
	}
	if s.Count("identify") != 200 {
		t.Errorf("Count = %d, want 200", s.Count("identify"))
	}
}

func TestServeStandalone(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := userpilottest.New(userpilottest.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeListener(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	if r := send(t, base, "POST", "/v1/identify", map[string]any{"user_id": "u"}, nil); r.status != 202 {
		t.Errorf("standalone identify: %d", r.status)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ServeListener: %v", err)
	}
	// Serve reports a bad address at once.
	if err := s.Serve(context.Background(), "256.0.0.1:bad"); err == nil {
		t.Error("Serve on a bad address: want error")
	}
}
