package userpilot

import (
	"maps"
	"sync"
	"time"
)

// Stats are the client's counters since it was built.
type Stats struct {
	// Calls counts HTTP requests sent per endpoint name (EndpointIdentify,
	// ...), retries and job polls included.
	Calls map[string]int64
	// Retries counts repeated requests after a retryable failure.
	Retries int64
	// RateLimited counts 429 answers.
	RateLimited int64
	// Conflicts counts 409 answers to bulk submissions (another job running).
	Conflicts int64
	// PacingWait is the total time spent waiting for the rate limiter.
	PacingWait time.Duration
	// BackoffWait is the total time slept before retries.
	BackoffWait time.Duration
	// JobWait is the total time spent waiting for bulk jobs: polling our
	// own and waiting out someone else's after a 409.
	JobWait time.Duration
}

type statsCounter struct {
	mu sync.Mutex
	s  Stats
}

func (sc *statsCounter) update(f func(*Stats)) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	f(&sc.s)
}

func (sc *statsCounter) call(endpoint string) {
	sc.update(func(s *Stats) {
		if s.Calls == nil {
			s.Calls = map[string]int64{}
		}
		s.Calls[endpoint]++
	})
}
func (sc *statsCounter) retry(d time.Duration) {
	sc.update(func(s *Stats) { s.Retries++; s.BackoffWait += d })
}
func (sc *statsCounter) paced(d time.Duration)   { sc.update(func(s *Stats) { s.PacingWait += d }) }
func (sc *statsCounter) rateLimited()            { sc.update(func(s *Stats) { s.RateLimited++ }) }
func (sc *statsCounter) conflict()               { sc.update(func(s *Stats) { s.Conflicts++ }) }
func (sc *statsCounter) jobWait(d time.Duration) { sc.update(func(s *Stats) { s.JobWait += d }) }

// Stats returns a copy of the client's counters.
func (c *Client) Stats() Stats {
	c.stats.mu.Lock()
	defer c.stats.mu.Unlock()
	s := c.stats.s
	s.Calls = maps.Clone(s.Calls)
	if s.Calls == nil {
		s.Calls = map[string]int64{}
	}
	return s
}
