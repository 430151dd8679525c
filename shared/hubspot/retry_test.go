package hubspot

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

const ok200 = `{"results":[]}`

func rateLimitBody(policy string) string {
	msg := map[string]string{PolicyTenSecondly: "You have reached your ten_secondly_rolling limit.", PolicySecondly: "You have reached your secondly limit.",
		PolicyDaily: "You have reached your daily limit."}[policy]
	return `{"status":"error","message":"` + msg + `","errorType":"RATE_LIMIT","policyName":"` + policy + `","correlationId":"c"}`
}

// TestRetryPaths checks each transient answer is retried after the documented wait.
func TestRetryPaths(t *testing.T) {
	tests := []struct {
		name     string
		first    reply
		search   bool
		minWait  time.Duration
		maxWait  time.Duration
		policy   string
		ratelimt bool
	}{
		{"429 ten-secondly waits for the window", reply{status: 429, body: rateLimitBody(PolicyTenSecondly)}, false, 10 * time.Second, 11*time.Second + time.Millisecond, PolicyTenSecondly, true},
		{"429 secondly search waits a second", reply{status: 429, body: rateLimitBody(PolicySecondly)}, true, time.Second, 1100 * time.Millisecond, PolicySecondly, true},
		{"429 honours Retry-After", reply{status: 429, header: map[string]string{"Retry-After": "3"}, body: rateLimitBody(PolicyTenSecondly)}, false, 3 * time.Second, 3300 * time.Millisecond, PolicyTenSecondly, true},
		{"423 waits at least 2 s", reply{status: 423, body: `{"status":"error","message":"locked"}`}, false, 2 * time.Second, 3 * time.Second, "", false},
		{"477 honours Retry-After", reply{status: 477, header: map[string]string{"Retry-After": "7"}, body: `{}`}, false, 7 * time.Second, 7 * time.Second, "", false},
		{"502", reply{status: 502}, false, 250 * time.Millisecond, 500 * time.Millisecond, "", false},
		{"503", reply{status: 503}, false, 250 * time.Millisecond, 500 * time.Millisecond, "", false},
		{"504", reply{status: 504}, false, 250 * time.Millisecond, 500 * time.Millisecond, "", false},
		{"521", reply{status: 521}, false, 250 * time.Millisecond, 500 * time.Millisecond, "", false},
		{"523", reply{status: 523}, false, 250 * time.Millisecond, 500 * time.Millisecond, "", false},
		{"524", reply{status: 524}, false, 250 * time.Millisecond, 500 * time.Millisecond, "", false},
		{"network error", reply{drop: true}, false, 250 * time.Millisecond, 500 * time.Millisecond, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.first, reply{body: `{"total":0,"results":[]}`})
			clock := newFakeClock()
			c := f.client(t, clock)
			start := clock.Now()
			var err error
			if tc.search {
				_, err = c.Search(context.Background(), "contacts", SearchRequest{})
			} else {
				_, err = c.ListProperties(context.Background(), "contacts")
			}
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if n := len(f.requests()); n != 2 {
				t.Fatalf("got %d requests, want 2", n)
			}
			// Pacing of the second request adds at most one token interval.
			waited := clock.Now().Sub(start)
			if waited < tc.minWait || waited > tc.maxWait+200*time.Millisecond {
				t.Errorf("waited %s, want between %s and %s", waited, tc.minWait, tc.maxWait)
			}
			st := c.Stats()
			if st.Retries != 1 || st.Requests != 2 {
				t.Errorf("stats = %+v, want 1 retry, 2 requests", st)
			}
			if tc.ratelimt && (st.RateLimited != 1 || st.RateLimitedBy[tc.policy] != 1) {
				t.Errorf("stats = %+v, want one 429 of %s", st, tc.policy)
			}
			if st.Wait < tc.minWait {
				t.Errorf("stats wait %s < %s", st.Wait, tc.minWait)
			}
		})
	}
}

func TestRetriesRunOut(t *testing.T) {
	f := newFake(t, reply{status: 503, body: `{"status":"error","message":"unavailable","correlationId":"c9"}`})
	c := f.client(t, newFakeClock(), WithMaxRetries(3))
	_, err := c.ListProperties(context.Background(), "contacts")
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 503 || !IsRetryable(err) {
		t.Fatalf("got %v, want a retryable 503 *APIError", err)
	}
	if n := len(f.requests()); n != 4 {
		t.Errorf("got %d requests, want 4 (1 + 3 retries)", n)
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	f := newFake(t, reply{status: 502}, reply{status: 502}, reply{status: 502}, reply{status: 502}, reply{body: ok200})
	clock := newFakeClock()
	c := f.client(t, clock)
	if _, err := c.ListProperties(context.Background(), "contacts"); err != nil {
		t.Fatal(err)
	}
	var backoffs []time.Duration
	for _, d := range clock.Slept() {
		if d >= 200*time.Millisecond { // skip pacing waits
			backoffs = append(backoffs, d)
		}
	}
	if len(backoffs) != 4 {
		t.Fatalf("backoffs = %v, want 4", backoffs)
	}
	for i, d := range backoffs {
		full := backoffBase << i
		if d < full/2 || d > full {
			t.Errorf("backoff %d = %s, want in [%s, %s]", i, d, full/2, full)
		}
	}
}

func TestDailyLimitStopsCalls(t *testing.T) {
	f := newFake(t, reply{status: 429, body: rateLimitBody(PolicyDaily)}, reply{body: ok200})
	clock := newFakeClock()
	c := f.client(t, clock)
	_, err := c.ListProperties(context.Background(), "contacts")
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.Policy != PolicyDaily || !errors.Is(err, ErrDailyLimit) {
		t.Fatalf("got %v, want a DAILY *RateLimitError matching ErrDailyLimit", err)
	}
	if IsRetryable(err) {
		t.Error("DAILY is retryable")
	}
	for range 3 {
		_, err = c.Search(context.Background(), "contacts", SearchRequest{})
		if !errors.Is(err, ErrDailyLimit) {
			t.Fatalf("later call: got %v, want ErrDailyLimit", err)
		}
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("got %d requests, want 1: calls after DAILY must not reach the network", n)
	}
	// After the probe interval the client tries again.
	clock.Advance(dailyProbe + time.Second)
	if _, err := c.ListProperties(context.Background(), "contacts"); err != nil {
		t.Errorf("after the probe interval: %v", err)
	}
}

func TestDailyBudgetRefusesLocally(t *testing.T) {
	f := newFake(t, reply{body: ok200})
	c := f.client(t, newFakeClock(), WithLimits(Limits{PerWindow: 100, Daily: 3}))
	for i := range 3 {
		if _, err := c.ListProperties(context.Background(), "contacts"); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	_, err := c.ListProperties(context.Background(), "contacts")
	if !errors.Is(err, ErrDailyLimit) {
		t.Fatalf("4th call: got %v, want ErrDailyLimit", err)
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("got %d requests, want 3", n)
	}
}

func TestDailyRemainingHeaderTightens(t *testing.T) {
	f := newFake(t, reply{body: ok200, header: map[string]string{"X-HubSpot-RateLimit-Daily-Remaining": "0", "X-HubSpot-RateLimit-Daily": "1000"}})
	c := f.client(t, newFakeClock())
	if _, err := c.ListProperties(context.Background(), "contacts"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListProperties(context.Background(), "contacts"); !errors.Is(err, ErrDailyLimit) {
		t.Errorf("got %v, want ErrDailyLimit once HubSpot says 0 remain today", err)
	}
}

func TestContextCancelStopsWaiting(t *testing.T) {
	f := newFake(t, reply{status: 503})
	c := f.client(t, nil) // real clock: the backoff really waits
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.ListProperties(ctx, "contacts")
	if err == nil {
		t.Fatal("want an error")
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("took %s: the wait ignored ctx", time.Since(start))
	}
}

func TestDeadlineShortCircuitsLongWaits(t *testing.T) {
	f := newFake(t, reply{status: 429, body: rateLimitBody(PolicyTenSecondly)})
	c := f.client(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := c.ListProperties(ctx, "contacts")
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.Policy != PolicyTenSecondly {
		t.Fatalf("got %v, want the 429 returned at once", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("waited %s although the retry could not finish before the deadline", time.Since(start))
	}
}

// TestPacingSustainsWindow drives 30 s of calls on the fake clock and checks no rolling 10 s
// window holds more than the limit while throughput stays >= 90% of it. (Concurrent callers
// sharing the buckets are tested against the sandbox, on the real clock.)
func TestPacingSustainsWindow(t *testing.T) {
	for _, limit := range []int{100, 110, 190, 250} {
		clock2 := newFakeClock()
		p2 := newPacer(Limits{PerWindow: limit, Window: 10 * time.Second}, clock2)
		start := clock2.Now()
		var times []time.Time
		for clock2.Now().Sub(start) < 30*time.Second {
			if _, err := p2.wait(context.Background(), false); err != nil {
				t.Fatal(err)
			}
			if clock2.Now().Sub(start) < 30*time.Second {
				times = append(times, clock2.Now())
			}
		}
		maxIn := 0
		for i := range times {
			j := i
			for j < len(times) && times[j].Sub(times[i]) < 10*time.Second {
				j++
			}
			maxIn = max(maxIn, j-i)
		}
		if maxIn > limit {
			t.Errorf("limit %d: %d requests in one rolling window", limit, maxIn)
		}
		if got, want := float64(len(times)), 0.9*float64(limit)*3; got < want {
			t.Errorf("limit %d: %v requests in 30 s, want >= %v (90%%)", limit, got, want)
		}
	}
}

func TestSearchPacedAndCountedTwice(t *testing.T) {
	clock := newFakeClock()
	p := newPacer(Limits{PerWindow: 1000, Window: 10 * time.Second}, clock)
	start := clock.Now()
	var times []time.Time
	for range 20 {
		if _, err := p.wait(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		times = append(times, clock.Now())
	}
	for i := 5; i < len(times); i++ {
		if times[i].Sub(times[i-5]) < time.Second {
			t.Errorf("6 searches within %s", times[i].Sub(times[i-5]))
		}
	}
	if el := clock.Now().Sub(start); el > 5*time.Second {
		t.Errorf("20 searches took %s, want about 4.2 s (4.5/s)", el)
	}
	// Search took general tokens too.
	if tokens := p.general.TokensAt(clock.Now()); tokens > float64(p.general.Burst())-1 && p.general.Burst() > 20 {
		t.Errorf("general bucket untouched by searches")
	}
}

func TestHeadersTighten(t *testing.T) {
	clock := newFakeClock()
	p := newPacer(Limits{PerWindow: 190, Window: 10 * time.Second}, clock)
	h := http.Header{}
	h.Set("X-HubSpot-RateLimit-Max", "100")
	h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
	h.Set("X-HubSpot-RateLimit-Remaining", "0")
	p.observe(h)
	if p.limits.PerWindow != 100 {
		t.Errorf("per window = %d, want 100 from the header", p.limits.PerWindow)
	}
	start := clock.Now()
	if _, err := p.wait(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if waited := clock.Now().Sub(start); waited < emptyPause {
		t.Errorf("waited %s after Remaining 0, want >= %s", waited, emptyPause)
	}
	// A higher max never loosens the configured limit.
	h.Set("X-HubSpot-RateLimit-Max", "500")
	h.Set("X-HubSpot-RateLimit-Remaining", "400")
	p.observe(h)
	if p.limits.PerWindow != 100 {
		t.Errorf("per window = %d after a higher header, want 100", p.limits.PerWindow)
	}
}

func TestTenSecondly429PausesOtherCallers(t *testing.T) {
	f := newFake(t, reply{status: 429, body: rateLimitBody(PolicyTenSecondly)}, reply{body: ok200})
	clock := newFakeClock()
	c := f.client(t, clock, WithMaxRetries(0))
	_, err := c.ListProperties(context.Background(), "contacts")
	var rl *RateLimitError
	if !errors.As(err, &rl) || rl.Policy != PolicyTenSecondly || !IsRetryable(err) {
		t.Fatalf("got %v, want a retryable ten-secondly *RateLimitError", err)
	}
	// Another caller now waits for the window before sending.
	before := clock.Now()
	if _, err := c.ListPropertyGroups(context.Background(), "contacts"); err != nil {
		t.Fatal(err)
	}
	if waited := clock.Now().Sub(before); waited < 10*time.Second {
		t.Errorf("next caller waited %s, want >= 10 s (the window)", waited)
	}
}
