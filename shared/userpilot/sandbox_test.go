package userpilot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/userpilot"
	"github.com/pilotsync/pilotsync/shared/userpilot/userpilottest"
)

func sandboxClient(t *testing.T, s *userpilottest.Server, more ...userpilot.Option) *userpilot.Client {
	t.Helper()
	c, err := userpilot.NewClient(s.APIKey(), fastOpts(s.URL, more...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSandboxEveryEndpoint(t *testing.T) {
	s := userpilottest.NewTestServer(t, userpilottest.Options{JobDuration: 50 * time.Millisecond})
	c := sandboxClient(t, s)
	ctx := context.Background()
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	if err := c.IdentifyUser(ctx, userpilot.User{UserID: "u1", CompanyID: "c1", Metadata: map[string]any{"email": "a@b.com", "plan": "pro", "seen": when}}); err != nil {
		t.Fatal(err)
	}
	if err := c.IdentifyUser(ctx, userpilot.User{UserID: "u1", Metadata: map[string]any{"plan": nil, "seats": 5}}); err != nil {
		t.Fatal(err)
	}
	if err := c.IdentifyCompany(ctx, userpilot.Company{CompanyID: "c1", Metadata: map[string]any{"name": "Acme"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Track(ctx, userpilot.Event{UserID: "u1", Name: "signed_in"}); err != nil {
		t.Fatal(err)
	}
	jobs, err := c.BulkIdentifyUsers(ctx, []userpilot.User{{UserID: "u2", CompanyID: "c2", Metadata: map[string]any{"n": 1}}, {UserID: "u1", Metadata: map[string]any{"seats": 6}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].Status != userpilot.JobCompleted || jobs[0].TotalRows != 2 || jobs[0].CompletedRows != 2 {
		t.Errorf("user jobs = %+v", jobs)
	}
	cjobs, err := c.BulkIdentifyCompanies(ctx, []userpilot.Company{{CompanyID: "c2", Metadata: map[string]any{"tier": "gold"}}})
	if err != nil {
		t.Fatal(err)
	}
	j, err := c.Job(ctx, cjobs[0].ID)
	if err != nil || j.Status != userpilot.JobCompleted || j.TotalRows != 1 {
		t.Errorf("Job(%q) = %+v, %v", cjobs[0].ID, j, err)
	}

	u1, _ := s.User("u1")
	want := map[string]any{"email": "a@b.com", "seen": "2026-01-02T03:04:05Z", "seats": 6.0}
	if !reflect.DeepEqual(u1.Metadata, want) || u1.CompanyID != "c1" {
		t.Errorf("u1 = %+v, want metadata %v in c1", u1, want)
	}
	if u2, _ := s.User("u2"); u2.CompanyID != "c2" || u2.Metadata["n"] != 1.0 {
		t.Errorf("u2 = %+v", u2)
	}
	if c1, _ := s.Company("c1"); c1.Metadata["name"] != "Acme" {
		t.Errorf("c1 = %+v", c1)
	}
	if c2, _ := s.Company("c2"); c2.Metadata["tier"] != "gold" {
		t.Errorf("c2 = %+v", c2)
	}
	if ev := s.Events(); len(ev) != 1 || ev[0].Name != "signed_in" {
		t.Errorf("events = %+v", ev)
	}
	for _, ep := range []string{userpilot.EndpointIdentify, userpilot.EndpointCompaniesIdentify, userpilot.EndpointTrack,
		userpilot.EndpointUsersBulk, userpilot.EndpointCompaniesBulk, userpilot.EndpointBackgroundJobs} {
		if got, sent := int64(s.Count(ep)), c.Stats().Calls[ep]; got == 0 || got != sent {
			t.Errorf("endpoint %s: sandbox saw %d, client counted %d", ep, got, sent)
		}
	}
}

func TestSandboxCompanyKey(t *testing.T) {
	tests := []struct {
		server, client string
		wantOK         bool
	}{
		{"", "id", true},
		{"", "company_id", true},
		// The default sends both keys, so it links whichever one the
		// service reads (Userpilot's docs disagree on which).
		{"", "", true},
		{"id", "", true},
		{"company_id", "", true},
		{"", "both", true},
		{"id", "id", true},
		{"company_id", "company_id", true},
		{"company_id", "id", false},
		{"id", "company_id", false},
	}
	for _, tt := range tests {
		t.Run(tt.server+"/"+tt.client, func(t *testing.T) {
			s := userpilottest.NewTestServer(t, userpilottest.Options{IdentifyCompanyKey: tt.server})
			c := sandboxClient(t, s, userpilot.WithCompanyKey(tt.client))
			err := c.IdentifyUser(context.Background(), userpilot.User{UserID: "u", CompanyID: "c"})
			if tt.wantOK {
				if err != nil {
					t.Fatal(err)
				}
				if u, _ := s.User("u"); u.CompanyID != "c" {
					t.Errorf("CompanyID = %q, want c", u.CompanyID)
				}
				return
			}
			var ae *userpilot.APIError
			if !errors.As(err, &ae) || ae.Status != 400 || ae.Errors[0].ErrorCode != userpilottest.CodeMissingCompanyID || !userpilot.IsPermanent(err) {
				t.Errorf("err = %v, want a permanent 400 missing_company_id", err)
			}
		})
	}
}

func TestSandboxPermanentAndRetryable(t *testing.T) {
	ctx := context.Background()
	s := userpilottest.NewTestServer(t, userpilottest.Options{APIKey: "STG-right"})

	wrong, _ := userpilot.NewClient("STG-wrong", fastOpts(s.URL)...)
	err := wrong.IdentifyUser(ctx, userpilot.User{UserID: "u"})
	if !errors.Is(err, userpilot.ErrUnauthorized) || !userpilot.IsPermanent(err) || userpilot.IsRetryable(err) {
		t.Errorf("wrong key: err = %v, want permanent ErrUnauthorized", err)
	}
	if n := s.Count(userpilottest.EndpointIdentify); n != 1 {
		t.Errorf("401 was retried: %d requests", n)
	}

	c := sandboxClient(t, s)
	err = c.Track(ctx, userpilot.Event{UserID: "ghost", Name: "x"})
	var ae *userpilot.APIError
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Errors[0].ErrorCode != userpilottest.CodeUserNotFound || !userpilot.IsPermanent(err) {
		t.Errorf("track unknown user: err = %v, want permanent 400 user_not_found", err)
	}

	s.SetFault(userpilottest.EndpointCompaniesIdentify, userpilottest.Fault{Rate5xx: 1})
	c = sandboxClient(t, s, userpilot.WithMaxRetries(1))
	err = c.IdentifyCompany(ctx, userpilot.Company{CompanyID: "c"})
	if !errors.As(err, &ae) || ae.Status != 503 || !userpilot.IsRetryable(err) || userpilot.IsPermanent(err) {
		t.Errorf("persistent 503: err = %v, want retryable *APIError 503", err)
	}
	if n := s.Count(userpilottest.EndpointCompaniesIdentify); n != 2 {
		t.Errorf("requests = %d, want 2 (one retry)", n)
	}
}

func TestSandboxRetryPaths(t *testing.T) {
	tests := []struct {
		name    string
		fault   userpilottest.Fault
		opts    []userpilot.Option
		retries int64
	}{
		{"5xx", userpilottest.Fault{Rate5xx: 1, Max: 2}, nil, 2},
		{"429", userpilottest.Fault{Rate429: 1, Max: 1}, nil, 1},
		{"dropped connection", userpilottest.Fault{RateDrop: 1, Max: 2}, nil, 2},
		{"slow beyond timeout", userpilottest.Fault{RateSlow: 1, Slow: time.Second, Max: 1}, []userpilot.Option{userpilot.WithTimeout(150 * time.Millisecond)}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := userpilottest.NewTestServer(t, userpilottest.Options{})
			s.SetFault(userpilottest.EndpointIdentify, tt.fault)
			c := sandboxClient(t, s, tt.opts...)
			if err := c.IdentifyUser(context.Background(), userpilot.User{UserID: "u", Metadata: map[string]any{"k": "v"}}); err != nil {
				t.Fatalf("err = %v, want the retry to succeed", err)
			}
			if u, ok := s.User("u"); !ok || u.Metadata["k"] != "v" {
				t.Errorf("user not written: %+v", u)
			}
			if st := c.Stats(); st.Retries != tt.retries {
				t.Errorf("retries = %d, want %d", st.Retries, tt.retries)
			}
		})
	}
}

func TestSandboxBulkFaults(t *testing.T) {
	s := userpilottest.NewTestServer(t, userpilottest.Options{JobDuration: 30 * time.Millisecond})
	s.SetFault(userpilottest.EndpointUsersBulk, userpilottest.Fault{RateEmpty2xx: 1, Max: 1})
	s.SetFault(userpilottest.EndpointBackgroundJobs, userpilottest.Fault{Rate5xx: 1, Max: 2})
	c := sandboxClient(t, s)
	jobs, err := c.BulkIdentifyUsers(context.Background(), []userpilot.User{{UserID: "a"}, {UserID: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].CompletedRows != 2 || len(s.Users()) != 2 {
		t.Errorf("jobs %+v users %d", jobs, len(s.Users()))
	}

	s.FailNextJob(1)
	jobs, err = c.BulkIdentifyCompanies(context.Background(), []userpilot.Company{{CompanyID: "x"}, {CompanyID: "y"}})
	var je *userpilot.JobError
	if !errors.As(err, &je) || len(jobs) != 1 || je.Job.ID != jobs[0].ID || je.Job.CompletedRows != 1 {
		t.Errorf("failed job: jobs %+v err %v", jobs, err)
	}
}

// gatedClock stands still until released, then runs with real time: the
// job started while it stands still keeps running until the test has seen
// the client wait for it.
type gatedClock struct {
	mu       sync.Mutex
	t0       time.Time
	released time.Time
}

func (g *gatedClock) Now() time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.released.IsZero() {
		return g.t0
	}
	return g.t0.Add(time.Since(g.released))
}

func (g *gatedClock) Release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.released = time.Now()
}

func TestSandboxBulkChunksAndWaitsForRunningJob(t *testing.T) {
	clock := &gatedClock{t0: time.Now()}
	s := userpilottest.NewTestServer(t, userpilottest.Options{JobDuration: 200 * time.Millisecond, Clock: clock.Now})
	// Someone else's job is running when we start.
	body, _ := json.Marshal(map[string]any{"companies": []any{map[string]any{"company_id": "other"}}})
	req, _ := http.NewRequest("POST", s.URL+"/v1/companies/bulk_identify", bytes.NewReader(body))
	req.Header.Set("Authorization", "Token "+s.APIKey())
	req.Header.Set("X-API-Version", userpilot.APIVersion)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("seed job: %v %v", resp, err)
	}
	resp.Body.Close()
	ctx := t.Context()
	go func() {
		for ctx.Err() == nil {
			for _, r := range s.Requests() {
				if r.Status == http.StatusConflict {
					clock.Release()
					return
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()

	const n = 2*userpilot.MaxBulkRecords + 1
	users := make([]userpilot.User, n)
	for i := range users {
		users[i] = userpilot.User{UserID: fmt.Sprintf("u%05d", i), CompanyID: fmt.Sprintf("c%d", i%50), Metadata: map[string]any{"i": i}}
	}
	c := sandboxClient(t, s, userpilot.WithJobPolling(20*time.Millisecond, 100*time.Millisecond, 10*time.Second))
	start := time.Now()
	jobs, err := c.BulkIdentifyUsers(context.Background(), users)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d users in %d jobs in %s", n, len(jobs), time.Since(start))
	var rows []int
	for _, j := range jobs {
		if j.Status != userpilot.JobCompleted || j.CompletedRows != j.TotalRows {
			t.Errorf("job %+v not completed", j)
		}
		rows = append(rows, j.TotalRows)
	}
	if !reflect.DeepEqual(rows, []int{10000, 10000, 1}) {
		t.Errorf("job sizes = %v, want [10000 10000 1]", rows)
	}
	if got := len(s.Users()); got != n {
		t.Errorf("users = %d, want %d", got, n)
	}
	if _, ok := s.Company("other"); !ok {
		t.Error("the other caller's job was not completed")
	}
	if u, _ := s.User("u20000"); u.Metadata["i"] != 20000.0 || u.CompanyID != "c0" {
		t.Errorf("u20000 = %+v", u)
	}
	st := c.Stats()
	if st.Conflicts < 1 {
		t.Errorf("conflicts = %d, want >= 1 (waited for the running job)", st.Conflicts)
	}
	if got := int64(s.Count(userpilottest.EndpointUsersBulk)); got != 3+st.Conflicts {
		t.Errorf("bulk requests = %d, want 3 + %d conflicts", got, st.Conflicts)
	}
	for _, r := range s.Requests() {
		if r.Endpoint == userpilottest.EndpointUsersBulk && r.Status == 409 {
			continue
		}
		if r.Status == 409 || r.Status == 429 || r.Status >= 500 {
			t.Errorf("unexpected %d on %s", r.Status, r.Endpoint)
		}
	}
}

func TestSandboxConcurrentBulkCallersQueue(t *testing.T) {
	s := userpilottest.NewTestServer(t, userpilottest.Options{JobDuration: 100 * time.Millisecond})
	c := sandboxClient(t, s)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for g := range 3 {
		wg.Go(func() {
			_, errs[g] = c.BulkIdentifyUsers(context.Background(), []userpilot.User{{UserID: fmt.Sprintf("g%d", g)}})
		})
	}
	wg.Wait()
	for g, err := range errs {
		if err != nil {
			t.Errorf("caller %d: %v", g, err)
		}
	}
	if st := c.Stats(); st.Conflicts != 0 {
		t.Errorf("conflicts = %d, want 0: one client's callers take turns", st.Conflicts)
	}
	if len(s.Users()) != 3 {
		t.Errorf("users = %d, want 3", len(s.Users()))
	}
}

// TestSandboxPacing runs callers flat out against a scaled-down limit (50
// per second instead of 600 per minute) with retries off: no 429 may reach
// a caller, and throughput must stay at >= 90% of the limit.
func TestSandboxPacing(t *testing.T) {
	const (
		limit    = 50
		window   = time.Second
		duration = 4 * time.Second
		callers  = 8
	)
	s := userpilottest.NewTestServer(t, userpilottest.Options{RateLimit: limit, RateWindow: window})
	// Two clients with the same token share one budget, as two handlers in
	// one Lambda process would.
	var clients []*userpilot.Client
	for range 2 {
		c, err := userpilot.NewClient(s.APIKey(), userpilot.WithBaseURL(s.URL), userpilot.WithRateLimit(limit, window), userpilot.WithMaxRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for g := range callers {
		c := clients[g%2]
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				err := c.IdentifyUser(ctx, userpilot.User{UserID: fmt.Sprintf("u%d-%d", g, i)})
				switch {
				case err == nil:
					ok.Add(1)
				case ctx.Err() != nil:
				default:
					failed.Add(1)
					t.Errorf("caller %d: %v", g, err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	rate429 := 0
	for _, r := range s.Requests() {
		if r.Status == http.StatusTooManyRequests {
			rate429++
		}
	}
	capacity := float64(limit) * elapsed.Seconds() / window.Seconds()
	got := float64(ok.Load())
	t.Logf("%d ok in %s: %.1f%% of the limit; %d 429s", ok.Load(), elapsed, 100*got/capacity, rate429)
	if rate429 != 0 || failed.Load() != 0 {
		t.Errorf("sandbox sent %d 429s, callers saw %d errors; want 0", rate429, failed.Load())
	}
	if got < 0.9*capacity {
		t.Errorf("throughput %.0f requests, want >= 90%% of %.0f", got, capacity)
	}
	for i, c := range clients {
		if st := c.Stats(); st.RateLimited != 0 || st.PacingWait <= 0 {
			t.Errorf("client %d stats = %+v, want no 429s and some pacing wait", i, st)
		}
	}
}

// TestSandboxUnpacedHits429 shows the limit is real: a client allowed to
// send faster than the sandbox accepts gets 429s.
func TestSandboxUnpacedHits429(t *testing.T) {
	s := userpilottest.NewTestServer(t, userpilottest.Options{RateLimit: 20, RateWindow: time.Second})
	c, _ := userpilot.NewClient(s.APIKey(), userpilot.WithBaseURL(s.URL), userpilot.WithRateLimit(10000, time.Second), userpilot.WithMaxRetries(0))
	var rl *userpilot.RateLimitError
	for i := range 40 {
		err := c.IdentifyUser(context.Background(), userpilot.User{UserID: "u"})
		if errors.As(err, &rl) {
			if i < 20 {
				t.Errorf("429 after %d requests, want after 20", i)
			}
			if rl.RetryAfter < time.Second {
				t.Errorf("RetryAfter = %s, want >= 1s", rl.RetryAfter)
			}
			return
		}
	}
	t.Error("no 429 from an unpaced burst of 40 against a limit of 20")
}
