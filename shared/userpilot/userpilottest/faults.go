package userpilottest

import (
	"net/http"
	"time"

	"github.com/pilotsync/pilotsync/shared/internal/sandbox"
)

// Fault is injected trouble for one endpoint (the type both sandboxes share).
// Here Status defaults to 503, Rate429 answers 429 with Retry-After: 1, and
// RateEmpty2xx answers 2xx but writes nothing (identify: 202 and no change;
// bulk: 202 with an empty body and no job; background_jobs: 200 with an empty
// body).
type Fault = sandbox.Fault

// AllEndpoints, given to SetFault, applies a fault to every endpoint that
// has none of its own.
const AllEndpoints = "*"

type faultKind int

const (
	faultNone faultKind = iota
	faultDrop
	fault5xx
	fault429
	faultEmpty2xx
)

type faultState struct {
	f    Fault
	hits int
}

type faultDraw struct {
	kind   faultKind
	status int
	slow   time.Duration
}

// SetFault sets (replaces) the fault for endpoint (an Endpoint* name or
// AllEndpoints). A zero Fault clears it.
func (s *Server) SetFault(endpoint string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == (Fault{}) {
		delete(s.faults, endpoint)
		return
	}
	if f.Status == 0 {
		f.Status = http.StatusServiceUnavailable
	}
	if f.Slow == 0 {
		f.Slow = 2 * time.Second
	}
	s.faults[endpoint] = &faultState{f: f}
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.faults)
}

// FailNextJob makes the next n bulk jobs end "failed" (writing only the
// first half of their records).
func (s *Server) FailNextJob(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext += n
}

func (s *Server) drawFault(endpoint string) faultDraw {
	s.mu.Lock()
	defer s.mu.Unlock()
	fs, ok := s.faults[endpoint]
	if !ok {
		if fs, ok = s.faults[AllEndpoints]; !ok {
			return faultDraw{}
		}
	}
	if fs.f.Max > 0 && fs.hits >= fs.f.Max {
		return faultDraw{}
	}
	var d faultDraw
	f := fs.f
	outcome, slow := f.Rates().Draw(s.rng)
	if slow {
		d.slow = f.Slow
	}
	switch outcome {
	case sandbox.Drop:
		d.kind = faultDrop
	case sandbox.ServerError:
		d.kind, d.status = fault5xx, f.Status
	case sandbox.TooManyRequests:
		d.kind = fault429
	case sandbox.Empty2xx:
		d.kind = faultEmpty2xx
	}
	if d.kind != faultNone || d.slow > 0 {
		fs.hits++
	}
	return d
}
