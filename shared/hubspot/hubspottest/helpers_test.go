package hubspottest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// call sends one request with the server's static token.
func call(t *testing.T, s *hubspottest.Server, method, path string, body any) response {
	t.Helper()
	return callWith(t, s, s.Token(), method, path, body)
}

func callWith(t *testing.T, s *hubspottest.Server, token, method, path string, body any) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case url.Values:
		rd = strings.NewReader(b.Encode())
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := body.(url.Values); ok {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// wantStatus fails unless r has the status.
func wantStatus(t *testing.T, r response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status: got %d, want %d; body %s", r.status, want, r.body)
	}
}

type wireRecord struct {
	ID         string             `json:"id"`
	Properties map[string]*string `json:"properties"`
	CreatedAt  string             `json:"createdAt"`
	UpdatedAt  string             `json:"updatedAt"`
}

type searchPage struct {
	Total   int          `json:"total"`
	Results []wireRecord `json:"results"`
	Paging  *struct {
		Next struct {
			After string `json:"after"`
		} `json:"next"`
	} `json:"paging"`
}

type batchAnswer struct {
	Status    string       `json:"status"`
	Results   []wireRecord `json:"results"`
	NumErrors int          `json:"numErrors"`
	Errors    []struct {
		Category string              `json:"category"`
		Message  string              `json:"message"`
		Context  map[string][]string `json:"context"`
	} `json:"errors"`
}

type errorBody struct {
	Status        string `json:"status"`
	Message       string `json:"message"`
	Category      string `json:"category"`
	CorrelationID string `json:"correlationId"`
	ErrorType     string `json:"errorType"`
	PolicyName    string `json:"policyName"`
	Errors        []struct {
		Message string              `json:"message"`
		Code    string              `json:"code"`
		Context map[string][]string `json:"context"`
	} `json:"errors"`
}

// newClock returns a manual clock stopped at start.
func newClock(start time.Time) *hubspottest.ManualClock { return hubspottest.NewManualClock(start) }

// paths gives the object path prefixes of both API versions.
var versions = []struct{ name, objects, props, events string }{
	{"v3", "/crm/v3/objects", "/crm/v3/properties", "/events/v3"},
	{"2026-03", "/crm/objects/2026-03", "/crm/properties/2026-03", "/events/2026-03"},
}

func strp(s string) *string { return &s }

func val(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func filter(prop, op, value string) map[string]any {
	return map[string]any{"propertyName": prop, "operator": op, "value": value}
}

func search(groups [][]map[string]any, sortProp, dir string, limit int, after string, props ...string) map[string]any {
	fg := []map[string]any{}
	for _, g := range groups {
		fg = append(fg, map[string]any{"filters": g})
	}
	body := map[string]any{"filterGroups": fg, "limit": limit, "properties": props}
	if sortProp != "" {
		body["sorts"] = []map[string]string{{"propertyName": sortProp, "direction": dir}}
	}
	if after != "" {
		body["after"] = after
	}
	return body
}

// callB sends a search from a benchmark.
func callB(b *testing.B, s *hubspottest.Server, body any) int {
	b.Helper()
	buf, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", s.URL+"/crm/v3/objects/contacts/search", bytes.NewReader(buf))
	req.Header.Set("Authorization", "Bearer "+s.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
