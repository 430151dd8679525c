package hubspot_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/hubspot/hubspottest"
)

// The benchmarks here pair a client call with a bare net/http call that sends
// the very request the client sent (method, path, query, body, token) to the
// same sandbox in the same run, reading the body and decoding nothing. Both
// the sandbox and the client have their rate limits off (the client's pacer
// still runs, with budgets it never reaches), so the ratio is the client's
// own overhead: encoding, pacing bookkeeping, the retry loop, status and
// error mapping, JSON decoding into Records. scripts/benchratio (make bench)
// prints it.

// benchLimits are far above what one caller reaches against the sandbox
// (a few thousand calls a second at most), as in the package's other sandbox
// tests; not higher, because the pacer keeps a ring of PerWindow send times.
var benchLimits = hubspot.Limits{PerWindow: 100_000, Window: 10 * time.Second, SearchPerSecond: 10_000}

// benchPair runs call through the client once, then benchmarks it
// ("pilotsync") against the bare replay of its request ("baseline_net_http").
func benchPair(b *testing.B, sb *hubspottest.Server, call func(ctx context.Context, c *hubspot.Client) error) {
	b.Helper()
	c, err := hubspot.NewClient(hubspot.WithBaseURL(sb.URL), hubspot.WithToken(sb.Token()),
		hubspot.WithLogger(slog.New(slog.DiscardHandler)),
		hubspot.WithLimits(benchLimits))
	if err != nil {
		b.Fatal(err)
	}
	sb.ResetRequests()
	if err := call(b.Context(), c); err != nil {
		b.Fatal(err)
	}
	reqs := sb.Requests()
	if len(reqs) != 1 {
		b.Fatalf("the call sent %d requests, want 1", len(reqs))
	}
	sent := reqs[0]
	target := sb.URL + sent.Path
	if len(sent.Query) > 0 {
		target += "?" + sent.Query.Encode()
	}
	hc := &http.Client{}
	bare := func(ctx context.Context) error {
		var body io.Reader
		if sent.Body != nil {
			body = bytes.NewReader(sent.Body)
		}
		req, err := http.NewRequestWithContext(ctx, sent.Method, target, body)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+sb.Token())
		if sent.Body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("bare %s %s: status %d", sent.Method, sent.Path, resp.StatusCode)
		}
		return nil
	}
	b.Run("pilotsync", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := call(b.Context(), c); err != nil {
				b.Fatal(err)
			}
		}
		sb.ResetRequests() // the sandbox keeps every request; do not let it grow across runs
	})
	b.Run("baseline_net_http", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := bare(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
		sb.ResetRequests()
	})
}

func benchSandbox(b *testing.B) *hubspottest.Server {
	b.Helper()
	sb := hubspottest.NewTestServer(b, hubspottest.Options{PerTenSeconds: -1, SearchPerSecond: -1, Daily: -1})
	sb.SeedContacts(1_000, nil)
	return sb
}

// BenchmarkClientSearch is one search page of 100 contacts with two properties.
func BenchmarkClientSearch(b *testing.B) {
	req := hubspot.SearchRequest{
		FilterGroups: []hubspot.FilterGroup{{Filters: []hubspot.Filter{{PropertyName: "lastmodifieddate", Operator: "GTE", Value: "0"}}}},
		Sorts:        []hubspot.Sort{{PropertyName: "lastmodifieddate", Direction: "ASCENDING"}},
		Properties:   []string{"email", "firstname"},
		Limit:        100,
	}
	benchPair(b, benchSandbox(b), func(ctx context.Context, c *hubspot.Client) error {
		page, err := c.Search(ctx, "contacts", req)
		if err == nil && len(page.Results) != 100 {
			b.Fatalf("search returned %d records, want 100", len(page.Results))
		}
		return err
	})
}

// BenchmarkClientList is one list page of 100 contacts with two properties.
func BenchmarkClientList(b *testing.B) {
	benchPair(b, benchSandbox(b), func(ctx context.Context, c *hubspot.Client) error {
		page, err := c.List(ctx, "contacts", []string{"email", "firstname"}, "", 100)
		if err == nil && len(page.Results) != 100 {
			b.Fatalf("list returned %d records, want 100", len(page.Results))
		}
		return err
	})
}
