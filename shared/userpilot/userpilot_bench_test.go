package userpilot_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/userpilot"
	"github.com/pilotsync/pilotsync/shared/userpilot/userpilottest"
)

// BenchmarkIdentifyUser pairs IdentifyUser with a bare net/http POST of the
// very request the client sent (path, headers, body) to the same sandbox in
// the same run. The sandbox's limit is off and the client's pacing is set far
// above what one caller reaches, so the ratio is the client's own overhead:
// metadata encoding, pacing bookkeeping, the retry loop, status mapping.
// scripts/benchratio (make bench) prints it.
func BenchmarkIdentifyUser(b *testing.B) {
	s := userpilottest.NewTestServer(b, userpilottest.Options{RateLimit: -1})
	c, err := userpilot.NewClient(s.APIKey(), userpilot.WithBaseURL(s.URL),
		userpilot.WithRateLimit(1_000_000, time.Second), userpilot.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	u := userpilot.User{UserID: "user-1", CompanyID: "co-1", Metadata: map[string]any{
		"email": "ann@example.com", "plan": "pro", "seats": 12, "trial": false,
		"signed_up_at": time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC), "hubspot_lifecyclestage": "customer",
	}}
	ctx := b.Context()
	s.ResetRequests()
	if err := c.IdentifyUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	reqs := s.Requests()
	if len(reqs) != 1 {
		b.Fatalf("IdentifyUser sent %d requests, want 1", len(reqs))
	}
	sent := reqs[0]
	target := s.URL + sent.Path
	if sent.Query != "" {
		target += "?" + sent.Query
	}
	hc := &http.Client{}
	bare := func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, sent.Method, target, bytes.NewReader(sent.Body))
		if err != nil {
			return err
		}
		for _, h := range []string{"Authorization", "X-API-Version", "Content-Type"} {
			req.Header.Set(h, sent.Header.Get(h))
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode/100 != 2 {
			b.Fatalf("bare %s %s: status %d", sent.Method, sent.Path, resp.StatusCode)
		}
		return nil
	}
	b.Run("pilotsync", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := c.IdentifyUser(b.Context(), u); err != nil {
				b.Fatal(err)
			}
		}
		s.ResetRequests() // the sandbox keeps every request; do not let it grow across runs
	})
	b.Run("baseline_net_http", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := bare(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
		s.ResetRequests()
	})
}
