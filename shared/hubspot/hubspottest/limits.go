package hubspottest

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/pilotsync/pilotsync/shared/internal/sandbox"
)

// Policy names in 429 bodies.
const (
	PolicyTenSecondly = "TEN_SECONDLY_ROLLING"
	PolicyDaily       = "DAILY"
	PolicySecondly    = "SECONDLY"
)

// limiter enforces the rolling general window, the search window and the daily budget.
type limiter struct {
	mu           sync.Mutex
	perWindow    int
	window       time.Duration
	hits         []time.Time
	searchMax    int
	searchWindow time.Duration
	searchHits   []time.Time
	daily        int
	loc          *time.Location
	day          string
	dayCount     int
}

func newLimiter(o Options) *limiter {
	l := &limiter{perWindow: o.PerTenSeconds, window: o.Window, searchMax: o.SearchPerSecond,
		searchWindow: o.SearchWindow, daily: o.Daily, loc: o.TimeZone}
	if l.perWindow == 0 {
		l.perWindow = DefaultPerTenSeconds
	}
	if l.window <= 0 {
		l.window = DefaultWindow
	}
	if l.searchMax == 0 {
		l.searchMax = DefaultSearchPerSecond
	}
	if l.searchWindow <= 0 {
		l.searchWindow = DefaultSearchWindow
	}
	if l.daily == 0 {
		l.daily = DefaultDaily
	}
	return l
}

// rateState is what the rate-limit headers report.
type rateState struct {
	max, remaining, dailyMax, dailyRemaining int
	interval                                 time.Duration
}

// admit counts a request or names the policy that rejects it. Rejected requests
// are not counted.
func (l *limiter) admit(now time.Time, search bool) (policy string, st rateState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if day := now.In(l.loc).Format(time.DateOnly); day != l.day {
		l.day, l.dayCount = day, 0
	}
	l.hits = sandbox.Prune(l.hits, now, l.window)
	l.searchHits = sandbox.Prune(l.searchHits, now, l.searchWindow)
	st = l.stateLocked()
	switch {
	case l.daily > 0 && l.dayCount >= l.daily:
		return PolicyDaily, st
	case search && l.searchMax > 0 && len(l.searchHits) >= l.searchMax:
		return PolicySecondly, st
	case l.perWindow > 0 && len(l.hits) >= l.perWindow:
		return PolicyTenSecondly, st
	}
	l.hits = append(l.hits, now)
	if search {
		l.searchHits = append(l.searchHits, now)
	}
	l.dayCount++
	return "", l.stateLocked()
}

func (l *limiter) stateLocked() rateState {
	return rateState{max: l.perWindow, remaining: max(l.perWindow-len(l.hits), 0), interval: l.window,
		dailyMax: l.daily, dailyRemaining: max(l.daily-l.dayCount, 0)}
}

// DailyUsed returns how many requests today's budget has counted.
func (s *Server) DailyUsed() int {
	s.lim.mu.Lock()
	defer s.lim.mu.Unlock()
	return s.lim.dayCount
}

// admit applies the rate limits; on rejection it writes the documented 429.
func (s *Server) admit(w http.ResponseWriter, endpoint string) bool {
	search := endpoint == EndpointSearch
	policy, st := s.lim.admit(s.clock(), search)
	if !search {
		// Search responses carry none of the rate-limit headers.
		h := w.Header()
		if st.max > 0 {
			h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(st.max))
			h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(st.remaining))
			h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.FormatInt(st.interval.Milliseconds(), 10))
		}
		if st.dailyMax > 0 {
			h.Set("X-HubSpot-RateLimit-Daily", strconv.Itoa(st.dailyMax))
			h.Set("X-HubSpot-RateLimit-Daily-Remaining", strconv.Itoa(st.dailyRemaining))
		}
	}
	if policy == "" {
		return true
	}
	s.write429(w, policy)
	return false
}

// rateLimitBody is HubSpot's 429 body.
type rateLimitBody struct {
	Status        string `json:"status"`
	Message       string `json:"message"`
	ErrorType     string `json:"errorType"`
	CorrelationID string `json:"correlationId"`
	PolicyName    string `json:"policyName"`
}

func (s *Server) write429(w http.ResponseWriter, policy string) {
	if d := s.opts.RetryAfter429; d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
	}
	msg := map[string]string{
		PolicyTenSecondly: "You have reached your ten_secondly_rolling limit.",
		PolicyDaily:       "You have reached your daily limit.",
		PolicySecondly:    "You have reached your secondly limit.",
	}[policy]
	writeJSON(w, http.StatusTooManyRequests, rateLimitBody{Status: "error", Message: msg, ErrorType: "RATE_LIMIT",
		CorrelationID: s.correlationID(), PolicyName: policy})
}

// Tier limits from HubSpot's rate-limit table (https://developers.hubspot.com/docs/api/usage-details).
const (
	freePerTenSeconds       = 100     // private app / service key, Free or Starter
	freeDaily               = 250000  // account-wide
	enterpriseDaily         = 1000000 // Enterprise
	addOnPerTenSeconds      = 250     // with the API limit increase add-on
	addOnDaily              = 1000000 // per add-on, on top of the tier
	publicAppPerTenSeconds  = 110     // public OAuth app, per installing account
	tierFree, tierStarter   = "free", "starter"
	tierPro, tierEnterprise = "professional", "enterprise"
)

// WithTier returns o with PerTenSeconds and Daily set for a HubSpot tier ("free",
// "starter", "professional", "enterprise"), a number of API limit increase add-ons,
// and whether calls come from a public OAuth app (110 per 10 s, no daily limit).
// Unknown tiers get the Professional limits.
func (o Options) WithTier(tier string, addOns int, publicApp bool) Options {
	switch tier {
	case tierFree, tierStarter:
		o.PerTenSeconds, o.Daily = freePerTenSeconds, freeDaily
	case tierEnterprise:
		o.PerTenSeconds, o.Daily = DefaultPerTenSeconds, enterpriseDaily
	default:
		o.PerTenSeconds, o.Daily = DefaultPerTenSeconds, DefaultDaily
	}
	if addOns > 0 {
		o.PerTenSeconds = addOnPerTenSeconds
		o.Daily += addOns * addOnDaily
	}
	if publicApp {
		o.PerTenSeconds, o.Daily = publicAppPerTenSeconds, -1
	}
	return o
}
