package hubspottest_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

func TestTenSecondWindow(t *testing.T) {
	clk := newClock(t0)
	s := hubspottest.NewTestServer(t, hubspottest.Options{Clock: clk.Now, PerTenSeconds: 3, Daily: 100})
	for i := range 3 {
		r := call(t, s, "GET", "/crm/v3/objects/contacts", nil)
		wantStatus(t, r, 200)
		h := r.header
		if h.Get("X-HubSpot-RateLimit-Max") != "3" || h.Get("X-HubSpot-RateLimit-Remaining") != string(rune('2'-i)) ||
			h.Get("X-HubSpot-RateLimit-Interval-Milliseconds") != "10000" || h.Get("X-HubSpot-RateLimit-Daily") != "100" ||
			h.Get("X-HubSpot-RateLimit-Daily-Remaining") == "" {
			t.Errorf("request %d headers: got %v", i, h)
		}
	}
	r := call(t, s, "GET", "/crm/v3/objects/contacts", nil)
	wantStatus(t, r, 429)
	var e errorBody
	r.json(t, &e)
	if e.Status != "error" || e.Message != "You have reached your ten_secondly_rolling limit." || e.ErrorType != "RATE_LIMIT" ||
		e.PolicyName != "TEN_SECONDLY_ROLLING" || e.CorrelationID == "" {
		t.Errorf("429 body: got %s", r.body)
	}
	// Rolling: the window frees up 10 s after the first requests, not at a fixed boundary.
	clk.Advance(9999 * time.Millisecond)
	wantStatus(t, call(t, s, "GET", "/crm/v3/objects/contacts", nil), 429)
	clk.Advance(time.Millisecond)
	wantStatus(t, call(t, s, "GET", "/crm/v3/objects/contacts", nil), 200)
}

func TestSearchLimit(t *testing.T) {
	clk := newClock(t0)
	s := hubspottest.NewTestServer(t, hubspottest.Options{Clock: clk.Now})
	body := search(nil, "", "", 10, "")
	for range 5 {
		r := call(t, s, "POST", "/crm/v3/objects/contacts/search", body)
		wantStatus(t, r, 200)
		for k := range r.header {
			if strings.HasPrefix(strings.ToLower(k), "x-hubspot-ratelimit") {
				t.Errorf("search response carries %s", k)
			}
		}
	}
	r := call(t, s, "POST", "/crm/v3/objects/contacts/search", body)
	wantStatus(t, r, 429)
	var e errorBody
	r.json(t, &e)
	if e.Message != "You have reached your secondly limit." || e.ErrorType != "RATE_LIMIT" {
		t.Errorf("search 429 body: got %s", r.body)
	}
	for k := range r.header {
		if strings.HasPrefix(strings.ToLower(k), "x-hubspot-ratelimit") {
			t.Errorf("search 429 carries %s", k)
		}
	}
	// Other endpoints are not held back by the search limit, and searches count toward the general one.
	r = call(t, s, "GET", "/crm/v3/objects/contacts", nil)
	wantStatus(t, r, 200)
	if got := r.header.Get("X-HubSpot-RateLimit-Remaining"); got != "184" {
		t.Errorf("remaining after 5 searches and 1 list: got %s, want 184", got)
	}
	clk.Advance(time.Second)
	wantStatus(t, call(t, s, "POST", "/crm/v3/objects/contacts/search", body), 200)
}

func TestDailyLimit(t *testing.T) {
	clk := newClock(time.Date(2026, 11, 27, 23, 59, 0, 0, time.UTC))
	s := hubspottest.NewTestServer(t, hubspottest.Options{Clock: clk.Now, Daily: 2, PerTenSeconds: -1})
	wantStatus(t, call(t, s, "GET", "/crm/v3/objects/contacts", nil), 200)
	wantStatus(t, call(t, s, "GET", "/crm/v3/objects/contacts", nil), 200)
	r := call(t, s, "GET", "/crm/v3/objects/contacts", nil)
	wantStatus(t, r, 429)
	var e errorBody
	r.json(t, &e)
	if e.PolicyName != "DAILY" || e.ErrorType != "RATE_LIMIT" {
		t.Errorf("daily 429: got %s", r.body)
	}
	clk.Advance(time.Minute) // the account's midnight resets the budget
	wantStatus(t, call(t, s, "GET", "/crm/v3/objects/contacts", nil), 200)
}

func TestShortWindowForFastTests(t *testing.T) {
	s := hubspottest.NewTestServer(t, hubspottest.Options{PerTenSeconds: 2, Window: 50 * time.Millisecond})
	wantStatus(t, call(t, s, "GET", "/crm/v3/objects/contacts", nil), 200)
	wantStatus(t, call(t, s, "GET", "/crm/v3/objects/contacts", nil), 200)
	r := call(t, s, "GET", "/crm/v3/objects/contacts", nil)
	wantStatus(t, r, 429)
	if got := r.header.Get("X-HubSpot-RateLimit-Interval-Milliseconds"); got != "50" {
		t.Errorf("interval header: got %s", got)
	}
	time.Sleep(60 * time.Millisecond)
	wantStatus(t, call(t, s, "GET", "/crm/v3/objects/contacts", nil), 200)
}

func TestAuth(t *testing.T) {
	s := hubspottest.NewTestServer(t, hubspottest.Options{Tokens: []string{"good"}})
	tests := []struct {
		name, token string
		want        int
	}{
		{"missing", "", 401},
		{"wrong", "bad", 401},
		{"right", "good", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := callWith(t, s, tc.token, "GET", "/crm/objects/2026-03/contacts", nil)
			wantStatus(t, r, tc.want)
			if tc.want == 401 {
				var e errorBody
				r.json(t, &e)
				if e.Category != "INVALID_AUTHENTICATION" {
					t.Errorf("401 body: got %s", r.body)
				}
			}
		})
	}
	for _, req := range s.Requests() {
		if req.Header.Get("Authorization") != "" {
			t.Errorf("recorded request keeps Authorization")
		}
	}
}

func TestOAuth(t *testing.T) {
	clk := newClock(t0)
	s := hubspottest.NewTestServer(t, hubspottest.Options{Clock: clk.Now, RequireOAuth: true,
		OAuth: hubspottest.OAuthApp{ClientID: "cid", ClientSecret: "sec", RefreshToken: "rt"}})
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {"cid"}, "client_secret": {"sec"}, "refresh_token": {"rt"}}
	bad := url.Values{"grant_type": {"refresh_token"}, "client_id": {"cid"}, "client_secret": {"sec"}, "refresh_token": {"nope"}}
	r := callWith(t, s, "", "POST", "/oauth/v1/token", bad)
	wantStatus(t, r, 400)
	if !strings.Contains(string(r.body), "BAD_REFRESH_TOKEN") {
		t.Errorf("bad refresh token body: %s", r.body)
	}
	r = callWith(t, s, "", "POST", "/oauth/v1/token", form)
	wantStatus(t, r, 200)
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int    `json:"expires_in"`
		TokenType    string `json:"token_type"`
	}
	r.json(t, &tok)
	if tok.AccessToken == "" || tok.ExpiresIn != 1800 || tok.RefreshToken != "rt" || tok.TokenType != "bearer" {
		t.Fatalf("token: got %s", r.body)
	}
	wantStatus(t, call(t, s, "GET", "/crm/v3/objects/contacts", nil), 401) // static tokens refused
	wantStatus(t, callWith(t, s, tok.AccessToken, "GET", "/crm/v3/objects/contacts", nil), 200)
	clk.Advance(30 * time.Minute)
	r = callWith(t, s, tok.AccessToken, "GET", "/crm/v3/objects/contacts", nil)
	wantStatus(t, r, 401)
	var e errorBody
	r.json(t, &e)
	if e.Category != "EXPIRED_AUTHENTICATION" {
		t.Errorf("expired: got %s", r.body)
	}
	for _, req := range s.RequestsTo(hubspottest.EndpointOAuth) {
		f, _ := url.ParseQuery(string(req.Body))
		if f.Get("client_secret") != "REDACTED" || f.Get("refresh_token") != "REDACTED" || f.Get("client_id") != "cid" {
			t.Errorf("recorded token request: got %s", req.Body)
		}
	}
	if s.AccessTokensIssued() != 1 || s.Count(hubspottest.EndpointOAuth) != 2 {
		t.Errorf("issued %d, oauth calls %d", s.AccessTokensIssued(), s.Count(hubspottest.EndpointOAuth))
	}
}

func TestFailNext(t *testing.T) {
	s := hubspottest.NewTestServer(t, hubspottest.Options{})
	ids := s.SeedContacts(1, nil)
	s.FailNext(hubspottest.EndpointBatchUpdate, 503, 429, hubspottest.FaultDaily, 477, hubspottest.FaultEmpty2xx)
	s.FailNext(hubspottest.EndpointSearch, 429)
	update := map[string]any{"inputs": []map[string]any{{"id": ids[0], "properties": map[string]string{"firstname": "New"}}}}
	path := "/crm/v3/objects/contacts/batch/update"
	wantStatus(t, call(t, s, "POST", path, update), 503)
	r := call(t, s, "POST", path, update)
	wantStatus(t, r, 429)
	var e errorBody
	r.json(t, &e)
	if e.PolicyName != "TEN_SECONDLY_ROLLING" {
		t.Errorf("injected 429: got %s", r.body)
	}
	r = call(t, s, "POST", path, update)
	r.json(t, &e)
	if r.status != 429 || e.PolicyName != "DAILY" {
		t.Errorf("injected daily: got %d %s", r.status, r.body)
	}
	r = call(t, s, "POST", path, update)
	if r.status != 477 || r.header.Get("Retry-After") != "1" {
		t.Errorf("injected 477: got %d %v", r.status, r.header)
	}
	r = call(t, s, "POST", path, update)
	wantStatus(t, r, 200)
	var b batchAnswer
	r.json(t, &b)
	if len(b.Results) != 0 || len(b.Errors) != 0 {
		t.Errorf("empty 2xx: got %s", r.body)
	}
	if rec, _ := s.Record("contacts", ids[0]); rec.Properties["firstname"] != "Contact" {
		t.Errorf("empty 2xx wrote: %v", rec.Properties)
	}
	wantStatus(t, call(t, s, "POST", path, update), 200)
	if rec, _ := s.Record("contacts", ids[0]); rec.Properties["firstname"] != "New" {
		t.Errorf("update after faults did not write: %v", rec.Properties)
	}
	r = call(t, s, "POST", "/crm/v3/objects/contacts/search", search(nil, "", "", 10, ""))
	r.json(t, &e)
	if r.status != 429 || e.Message != "You have reached your secondly limit." {
		t.Errorf("injected search 429: got %d %s", r.status, r.body)
	}
	if got := s.StatusCount(429); got != 3 {
		t.Errorf("429s answered: got %d, want 3", got)
	}
}

func TestDroppedConnection(t *testing.T) {
	s := hubspottest.NewTestServer(t, hubspottest.Options{})
	s.FailNext(hubspottest.EndpointList, hubspottest.FaultDrop)
	req, _ := http.NewRequest("GET", s.URL+"/crm/v3/objects/contacts", nil)
	req.Header.Set("Authorization", "Bearer "+s.Token())
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Fatalf("dropped connection: got status %d, want an error", resp.StatusCode)
	}
	if got := s.Requests(); len(got) != 1 || got[0].Status != 0 {
		t.Errorf("recorded: got %+v", got)
	}
}

func TestSlowFault(t *testing.T) {
	s := hubspottest.NewTestServer(t, hubspottest.Options{})
	s.SetFault(hubspottest.EndpointList, hubspottest.Fault{RateSlow: 1, Slow: 100 * time.Millisecond})
	start := time.Now()
	wantStatus(t, call(t, s, "GET", "/crm/v3/objects/contacts", nil), 200)
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("slow fault answered in %v", d)
	}
}

func TestRandomFaultsAreSeededAndPerEndpoint(t *testing.T) {
	run := func(seed int64) []int {
		s := hubspottest.NewTestServer(t, hubspottest.Options{Seed: seed, PerTenSeconds: -1})
		s.SetFault(hubspottest.EndpointList, hubspottest.Fault{Rate5xx: 0.3, Rate429: 0.2, RateEmpty2xx: 0.1, Status: 500})
		var out []int
		for range 200 {
			out = append(out, call(t, s, "GET", "/crm/v3/objects/contacts", nil).status)
		}
		for range 20 {
			wantStatus(t, call(t, s, "GET", "/crm/v3/properties/contacts", nil), 200)
		}
		return out
	}
	a, b := run(7), run(7)
	counts := map[int]int{}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different faults at %d: %d vs %d", i, a[i], b[i])
		}
		counts[a[i]]++
	}
	if counts[500] < 40 || counts[500] > 80 || counts[429] < 20 || counts[429] > 60 || counts[200] < 80 {
		t.Errorf("fault mix: got %v", counts)
	}
}

func TestInspection(t *testing.T) {
	s := hubspottest.NewTestServer(t, hubspottest.Options{})
	call(t, s, "GET", "/crm/v3/objects/contacts?limit=5&properties=email", nil)
	call(t, s, "POST", "/crm/v3/objects/contacts/search", search(nil, "", "", 1, ""))
	call(t, s, "POST", "/crm/objects/2026-03/contacts/batch/read", map[string]any{"inputs": []map[string]string{}})
	call(t, s, "GET", "/nowhere", nil)
	want := map[string]int{"list": 1, "search": 1, "batch_read": 1, "unknown": 1}
	for k, v := range want {
		if got := s.Count(k); got != v {
			t.Errorf("Count(%s): got %d, want %d", k, got, v)
		}
	}
	reqs := s.Requests()
	if len(reqs) != 4 || reqs[0].Method != "GET" || reqs[0].Path != "/crm/v3/objects/contacts" || reqs[0].Query.Get("limit") != "5" ||
		!strings.Contains(string(reqs[1].Body), `"limit":1`) || reqs[1].Status != 200 || reqs[3].Status != 404 {
		t.Errorf("requests: got %+v", reqs)
	}
	s.ResetRequests()
	if len(s.Requests()) != 0 || s.Count("list") != 0 {
		t.Errorf("ResetRequests left requests")
	}
}

func TestConcurrentUse(t *testing.T) {
	s := hubspottest.NewTestServer(t, hubspottest.Options{PerTenSeconds: -1, SearchPerSecond: -1, SearchLag: time.Millisecond})
	ids := s.SeedContacts(50, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 8 {
		wg.Go(func() {
			for j := range 10 {
				id := ids[(i*10+j)%len(ids)]
				update := map[string]any{"inputs": []map[string]any{{"id": id, "properties": map[string]string{"firstname": "W"}}}}
				for _, c := range []struct {
					method, path string
					body         any
				}{
					{"POST", "/crm/v3/objects/contacts/batch/update", update},
					{"POST", "/crm/v3/objects/contacts/search", search(nil, "lastmodifieddate", "ASCENDING", 10, "")},
					{"GET", "/crm/v3/objects/contacts", nil},
				} {
					if r := call(t, s, c.method, c.path, c.body); r.status != 200 {
						errs <- errors.New(string(r.body))
					}
				}
				s.Update("contacts", id, map[string]string{"lastname": "L"})
				_ = s.Records("contacts")
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestWithTier(t *testing.T) {
	tests := []struct {
		tier               string
		addOns             int
		public             bool
		wantMax, wantDaily string
	}{
		{"starter", 0, false, "100", "250000"},
		{"professional", 0, false, "190", "625000"},
		{"enterprise", 1, false, "250", "2000000"},
		{"professional", 0, true, "110", ""},
	}
	for _, tc := range tests {
		t.Run(tc.tier, func(t *testing.T) {
			s := hubspottest.NewTestServer(t, hubspottest.Options{}.WithTier(tc.tier, tc.addOns, tc.public))
			r := call(t, s, "GET", "/crm/v3/objects/contacts", nil)
			if got := r.header.Get("X-HubSpot-RateLimit-Max"); got != tc.wantMax {
				t.Errorf("max: got %s, want %s", got, tc.wantMax)
			}
			if got := r.header.Get("X-HubSpot-RateLimit-Daily"); got != tc.wantDaily {
				t.Errorf("daily: got %q, want %q", got, tc.wantDaily)
			}
		})
	}
}

func TestRetryAfter429(t *testing.T) {
	s := hubspottest.NewTestServer(t, hubspottest.Options{PerTenSeconds: 1, RetryAfter429: 1500 * time.Millisecond})
	wantStatus(t, call(t, s, "GET", "/crm/v3/objects/contacts", nil), 200)
	r := call(t, s, "GET", "/crm/v3/objects/contacts", nil)
	wantStatus(t, r, 429)
	if got := r.header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After: got %q, want 2", got)
	}
}
