package sandbox

import (
	"maps"
	"sync"
)

// Log keeps the requests a sandbox received, oldest first, with how many
// each endpoint received and how many answers had each status. R is the
// sandbox's own Request type. It is safe for concurrent use.
type Log[R any] struct {
	max       int
	setStatus func(*R, int)

	mu       sync.Mutex
	reqs     []*R
	counts   map[string]int
	statuses map[int]int
}

// NewLog returns an empty log. It keeps at most max requests (0 = all;
// when full, the older half is forgotten; counts go on). setStatus stores
// an answered status in a request.
func NewLog[R any](max int, setStatus func(*R, int)) *Log[R] {
	return &Log[R]{max: max, setStatus: setStatus, counts: map[string]int{}, statuses: map[int]int{}}
}

// Add records req, received by endpoint, before it is answered; pass the
// same pointer to Finish.
func (l *Log[R]) Add(endpoint string, req *R) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts[endpoint]++
	if l.max > 0 && len(l.reqs) >= l.max {
		l.reqs = append(l.reqs[:0], l.reqs[len(l.reqs)/2:]...)
	}
	l.reqs = append(l.reqs, req)
}

// Finish records the status req was answered with (0 for none). A request
// forgotten by Reset meanwhile only counts its status.
func (l *Log[R]) Finish(req *R, status int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.setStatus(req, status)
	l.statuses[status]++
}

// Requests returns copies of the kept requests, oldest first.
func (l *Log[R]) Requests() []R {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]R, len(l.reqs))
	for i, r := range l.reqs {
		out[i] = *r
	}
	return out
}

// Count returns how many requests endpoint received, whatever the answer.
func (l *Log[R]) Count(endpoint string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[endpoint]
}

// Counts returns the request count per endpoint.
func (l *Log[R]) Counts() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.counts)
}

// StatusCount returns how many answers had status (0 = dropped).
func (l *Log[R]) StatusCount(status int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.statuses[status]
}

// Reset forgets the requests and both counts.
func (l *Log[R]) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = nil
	clear(l.counts)
	clear(l.statuses)
}
