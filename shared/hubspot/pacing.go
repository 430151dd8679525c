package hubspot

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/pilotsync/pilotsync/shared/internal/sleep"
)

// HubSpot's published limits ("API usage guidelines", https://developers.hubspot.com/docs/api/usage-details, 2026).
const (
	// DefaultWindow is the length of HubSpot's rolling burst window.
	DefaultWindow = 10 * time.Second
	// SearchPerSecond is the CRM search limit per account, for any auth.
	SearchPerSecond = 5
	// perWindowFreeStarter etc. are requests per 10 s by edition.
	perWindowFreeStarter = 100
	perWindowPro         = 190
	perWindowAddOn       = 250
	perWindowPublicApp   = 110
	dailyFreeStarter     = 250_000
	dailyPro             = 625_000
	dailyEnterprise      = 1_000_000
	dailyPerAddOn        = 1_000_000
)

// Pacing margins (our choice, not HubSpot's).
const (
	// burstFraction of the window limit may go out at once; the rest is spread evenly.
	burstFraction = 20 // burst = limit/20
	// safetyFraction of the window limit (at least one request) is kept in reserve for
	// network and scheduling jitter between our send time and HubSpot's count.
	safetyFraction = 50 // safety = limit/50
	// searchShare paces search at 90% of its per-second limit: requests 222 ms apart leave
	// room for jitter while a 1 s window still holds at most 5.
	searchShare = 0.9
	// lowRemaining is the X-HubSpot-RateLimit-Remaining level at which the client drains its
	// bucket (someone else is using the account's budget).
	lowRemaining = 2
	// emptyPause is how long every caller waits when HubSpot reports 0 remaining.
	emptyPause = time.Second
	// secondlyWait is HubSpot's advice for the search secondly limit ("wait at least 1 s").
	secondlyWait = time.Second
	// lockedWait is the minimum wait after a 423 Locked.
	lockedWait = 2 * time.Second
	// dailyProbe is how long calls are refused after a DAILY 429 without Retry-After. HubSpot
	// resets at the account's (unknown) midnight, so the client probes again once an hour.
	dailyProbe = time.Hour
)

// Limits are the request budgets the client paces itself to.
type Limits struct {
	// PerWindow requests per Window (HubSpot: 100 to 250 per 10 s).
	PerWindow int
	// Window defaults to DefaultWindow.
	Window time.Duration
	// SearchPerSecond defaults to SearchPerSecond (5).
	SearchPerSecond float64
	// Daily is the daily budget; 0 means none (public apps).
	Daily int
}

// LimitsForTier returns HubSpot's published limits for an edition ("free", "starter",
// "professional", "enterprise"; "" or unknown means professional), the number of API limit
// increase add-ons, and whether the client is a public OAuth app.
func LimitsForTier(tier string, addOns int, publicApp bool) Limits {
	l := Limits{Window: DefaultWindow, SearchPerSecond: SearchPerSecond}
	if publicApp {
		l.PerWindow = perWindowPublicApp
		return l
	}
	switch strings.ToLower(tier) {
	case "free", "starter":
		l.PerWindow, l.Daily = perWindowFreeStarter, dailyFreeStarter
	case "enterprise":
		l.PerWindow, l.Daily = perWindowPro, dailyEnterprise
	default:
		l.PerWindow, l.Daily = perWindowPro, dailyPro
	}
	if addOns > 0 {
		l.PerWindow = perWindowAddOn
		l.Daily += addOns * dailyPerAddOn
	}
	return l
}

func (l Limits) withDefaults() Limits {
	if l.Window <= 0 {
		l.Window = DefaultWindow
	}
	if l.PerWindow <= 0 {
		l.PerWindow = perWindowPro
	}
	if l.SearchPerSecond <= 0 {
		l.SearchPerSecond = SearchPerSecond
	}
	return l
}

// Clock is the time source for pacing and backoff; tests inject a fake one.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time                                   { return time.Now() }
func (realClock) Sleep(ctx context.Context, d time.Duration) error { return sleep.For(ctx, d) }

// pacer holds the token buckets shared by every caller of one Client.
type pacer struct {
	clock Clock

	mu                sync.Mutex
	limits            Limits
	general           *rate.Limiter
	search            *rate.Limiter
	daily             *rate.Limiter // nil: no daily budget
	pausedUntil       time.Time     // all calls wait (ten-secondly 429, 0 remaining)
	searchPausedUntil time.Time     // search calls wait (secondly 429)
	dailyUntil        time.Time     // calls refused (DAILY 429 or budget spent)
	sent              []time.Time   // ring of our last PerWindow send times
	sentNext          int
}

func newPacer(l Limits, clock Clock) *pacer {
	l = l.withDefaults()
	p := &pacer{clock: clock, limits: l}
	r, b := generalRate(l.PerWindow, l.Window)
	p.general = rate.NewLimiter(r, b) // starts full
	p.search = rate.NewLimiter(rate.Limit(l.SearchPerSecond*searchShare), 1)
	if l.Daily > 0 {
		p.daily = rate.NewLimiter(rate.Limit(float64(l.Daily)/(24*3600)), l.Daily) // starts full
	}
	return p
}

// generalRate is the token bucket for "at most n per window, as a rolling count": a bucket of
// burst b and rate r admits at most b + r*window in any window, so r = (n - b - safety)/window.
func generalRate(n int, window time.Duration) (rate.Limit, int) {
	b := max(1, n/burstFraction)
	per := max(1, n-b-max(1, n/safetyFraction))
	return rate.Limit(float64(per) / window.Seconds()), b
}

func (p *pacer) setWindowLocked(now time.Time, n int, window time.Duration) {
	r, b := generalRate(n, window)
	p.general.SetLimitAt(now, r)
	p.general.SetBurstAt(now, b)
	p.limits.PerWindow, p.limits.Window = n, window
}

// wait blocks until one request may be sent and returns how long it waited. Search requests
// take a token from the search bucket first and then from the general one (search counts
// toward both). The general token is taken last so the time it records is the send time.
func (p *pacer) wait(ctx context.Context, search bool) (time.Duration, error) {
	var waited time.Duration
	sleep := func(d time.Duration) error {
		if d <= 0 {
			return ctx.Err()
		}
		waited += d
		return p.clock.Sleep(ctx, d)
	}
	if search {
		for {
			p.mu.Lock()
			now := p.clock.Now()
			if d := p.searchPausedUntil.Sub(now); d > 0 {
				p.mu.Unlock()
				if err := sleep(d); err != nil {
					return waited, err
				}
				continue
			}
			r := p.search.ReserveN(now, 1)
			d := r.DelayFrom(now)
			p.mu.Unlock()
			if err := sleep(d); err != nil {
				r.CancelAt(p.clock.Now())
				return waited, err
			}
			break
		}
	}
	for {
		p.mu.Lock()
		now := p.clock.Now()
		if now.Before(p.dailyUntil) {
			until := p.dailyUntil.Sub(now)
			p.mu.Unlock()
			return waited, &RateLimitError{Policy: PolicyDaily, RetryAfter: until, Local: true}
		}
		if d := p.pausedUntil.Sub(now); d > 0 {
			p.mu.Unlock()
			if err := sleep(d); err != nil {
				return waited, err
			}
			continue
		}
		if p.daily != nil && !p.daily.AllowN(now, 1) {
			p.dailyUntil = now.Add(dailyProbe)
			p.mu.Unlock()
			return waited, &RateLimitError{Policy: PolicyDaily, RetryAfter: dailyProbe, Local: true, Message: "daily budget spent"}
		}
		r := p.general.ReserveN(now, 1)
		d := r.DelayFrom(now)
		p.logSendLocked(now.Add(d))
		p.mu.Unlock()
		if err := sleep(d); err != nil {
			r.CancelAt(p.clock.Now())
			return waited, err
		}
		if ctx.Err() != nil {
			return waited, ctx.Err()
		}
		return waited, nil
	}
}

// observe tightens the buckets from X-HubSpot-RateLimit-* headers (absent on search responses).
func (p *pacer) observe(h headerGetter) {
	maxN, okMax := headerInt(h, "X-HubSpot-RateLimit-Max")
	interval, okInt := headerInt(h, "X-HubSpot-RateLimit-Interval-Milliseconds")
	remaining, okRem := headerInt(h, "X-HubSpot-RateLimit-Remaining")
	dailyRem, okDaily := headerInt(h, "X-HubSpot-RateLimit-Daily-Remaining")
	if !okMax && !okRem && !okDaily {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	if okMax && maxN > 0 {
		window := p.limits.Window
		if okInt && interval > 0 {
			window = time.Duration(interval) * time.Millisecond
		}
		// Tighten only: a lower max, or the same max over a longer window.
		if float64(maxN)/window.Seconds() < float64(p.limits.PerWindow)/p.limits.Window.Seconds() {
			p.setWindowLocked(now, maxN, window)
		}
	}
	if okRem {
		if tokens := p.general.TokensAt(now); remaining <= lowRemaining && tokens > float64(remaining) {
			p.general.ReserveN(now, int(math.Ceil(tokens))-remaining)
		}
		if remaining <= 0 {
			if until := now.Add(emptyPause); until.After(p.pausedUntil) {
				p.pausedUntil = until
			}
		}
	}
	if okDaily && p.daily != nil {
		if tokens := p.daily.TokensAt(now); tokens > float64(dailyRem) {
			// Take the difference (in chunks no larger than the burst).
			excess := int(tokens) - dailyRem
			for excess > 0 {
				n := min(excess, p.daily.Burst())
				p.daily.ReserveN(now, n)
				excess -= n
			}
		}
	}
}

// pause makes every caller (or every search caller) wait until now+d.
func (p *pacer) pause(d time.Duration, searchOnly bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	until := p.clock.Now().Add(d)
	if searchOnly {
		if until.After(p.searchPausedUntil) {
			p.searchPausedUntil = until
		}
		return
	}
	if until.After(p.pausedUntil) {
		p.pausedUntil = until
	}
}

// stopDaily refuses every call for d.
func (p *pacer) stopDaily(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if until := p.clock.Now().Add(d); until.After(p.dailyUntil) {
		p.dailyUntil = until
	}
}

func (p *pacer) window() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.limits.Window
}

type headerGetter interface{ Get(string) string }

func headerInt(h headerGetter, name string) (int, bool) {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, false
	}
	return n, true
}

// logSendLocked remembers a send time, to know when the rolling window frees a slot.
func (p *pacer) logSendLocked(t time.Time) {
	n := max(1, p.limits.PerWindow)
	if cap(p.sent) != n {
		p.sent, p.sentNext = make([]time.Time, 0, n), 0
	}
	if len(p.sent) < n {
		p.sent = append(p.sent, t)
		return
	}
	p.sent[p.sentNext] = t
	p.sentNext = (p.sentNext + 1) % n
}

// windowFrees returns how long until our oldest send in the rolling window leaves it: after a
// ten-secondly 429 that is when a slot opens if we are the account's only caller. It is at
// least a tenth of the window (someone else may be using the budget) and the whole window when
// the log has not filled yet.
func (p *pacer) windowFrees() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	if len(p.sent) < p.limits.PerWindow {
		return p.limits.Window
	}
	oldest := p.sent[p.sentNext] // the ring is full: sentNext is the oldest entry
	d := oldest.Add(p.limits.Window).Sub(now)
	return min(max(d, p.limits.Window/10), p.limits.Window)
}
