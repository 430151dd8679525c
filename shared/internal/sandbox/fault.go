package sandbox

import "time"

// Fault is injected trouble for one endpoint of a sandbox, the one fault type
// both sandboxes take. Each request draws once (seeded): with probability
// RateDrop the connection is closed without an answer, Rate5xx answers Status
// (each sandbox has its service's default), Rate429 answers the service's rate
// limit body, RateEmpty2xx answers success but writes nothing. Independently,
// with probability RateSlow the answer is delayed by Slow (default 2 s), after
// which the request proceeds.
type Fault struct {
	Rate5xx      float64
	Rate429      float64
	RateSlow     float64
	RateDrop     float64
	RateEmpty2xx float64
	// Status is the injected server error status (0 = the sandbox's default).
	Status int
	// Slow is the delay of slow answers (0 = DefaultSlow).
	Slow time.Duration
	// Max stops the fault after it has hit this many requests (0 = no end),
	// e.g. Fault{Rate5xx: 1, Max: 2} fails exactly the next two requests.
	Max int
}

// DefaultSlow is the delay of a slow answer when Fault.Slow is zero.
const DefaultSlow = 2 * time.Second

// Rates are f's probabilities for Rates.Draw.
func (f Fault) Rates() Rates {
	return Rates{Drop: f.RateDrop, ServerError: f.Rate5xx, TooManyRequests: f.Rate429, Empty2xx: f.RateEmpty2xx, Slow: f.RateSlow}
}

// Delay is f's slow-answer delay, DefaultSlow when unset.
func (f Fault) Delay() time.Duration {
	if f.Slow > 0 {
		return f.Slow
	}
	return DefaultSlow
}
