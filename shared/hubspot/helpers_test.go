package hubspot

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot/internal/spectest"
)

// fakeClock advances only when someone sleeps, so backoff and pacing run instantly and the
// waits are exact.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.now = c.now.Add(d)
		c.slept = append(c.slept, d)
	}
	return nil
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// seenRequest is what the test server received.
type seenRequest struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	Body         []byte
}

// JSON decodes the body into a generic value for comparisons.
func (r seenRequest) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("request body %q is not a JSON object: %v", r.Body, err)
	}
	return m
}

// reply is one canned answer.
type reply struct {
	status int
	header map[string]string
	body   string
	drop   bool // hijack and close: a network error
}

// fakeHubSpot answers with canned replies in order (the last one repeats) and records
// every request.
type fakeHubSpot struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	seen    []seenRequest
	replies []reply
	handler func(r seenRequest) reply // used instead of replies when set
}

func newFake(t *testing.T, replies ...reply) *fakeHubSpot {
	t.Helper()
	f := &fakeHubSpot{t: t, replies: replies}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	// Every request the client sent must conform to HubSpot's spec.
	t.Cleanup(func() { spectest.Check(t, f.specRequests()...) })
	return f
}

func (f *fakeHubSpot) specRequests() []spectest.Request {
	var out []spectest.Request
	for _, r := range f.requests() {
		out = append(out, spectest.Request{Method: r.Method, Path: r.Path, Query: r.Query, ContentType: r.Header.Get("Content-Type"), Body: r.Body})
	}
	return out
}

func (f *fakeHubSpot) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	sr := seenRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body}
	f.mu.Lock()
	f.seen = append(f.seen, sr)
	var rep reply
	switch {
	case f.handler != nil:
		h := f.handler
		f.mu.Unlock()
		rep = h(sr)
		f.mu.Lock()
	case len(f.replies) > 0:
		rep = f.replies[0]
		if len(f.replies) > 1 {
			f.replies = f.replies[1:]
		}
	default:
		rep = reply{status: 200, body: "{}"}
	}
	f.mu.Unlock()
	if rep.drop {
		hj, ok := w.(http.Hijacker)
		if !ok {
			f.t.Error("cannot hijack")
			return
		}
		conn, _, _ := hj.Hijack()
		conn.Close()
		return
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	if rep.body != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	if rep.status == 0 {
		rep.status = 200
	}
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (f *fakeHubSpot) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.seen...)
}

// client builds a Client against the fake with a fake clock.
func (f *fakeHubSpot) client(t *testing.T, clock Clock, opts ...Option) *Client {
	t.Helper()
	all := []Option{WithBaseURL(f.srv.URL), WithToken("secret-token"), WithLogger(slog.New(slog.DiscardHandler))}
	if clock != nil {
		all = append(all, WithClock(clock))
	}
	c, err := NewClient(append(all, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad want JSON %q: %v", s, err)
	}
	return v
}
