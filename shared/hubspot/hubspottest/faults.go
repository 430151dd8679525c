package hubspottest

import (
	"net/http"
	"time"

	"github.com/pilotsync/pilotsync/shared/internal/sandbox"
)

// Fault sets per-request probabilities of injected failures on an endpoint
// (the type both sandboxes share). Here Status defaults to 502, Rate429 answers
// the documented ten-secondly 429 (secondly on search), and RateEmpty2xx answers
// success without writing: batch update 200 with empty results, event sends 204
// without storing, reads and searches with no results.
type Fault = sandbox.Fault

// Codes for FailNext besides plain HTTP statuses (which answer that status with an
// error body; 429 gives the ten-secondly body, or the secondly one on search; 477
// carries Retry-After: 1).
const (
	// FaultDrop drops the connection.
	FaultDrop = -1
	// FaultEmpty2xx answers success without writing.
	FaultEmpty2xx = -2
	// FaultDaily answers the DAILY 429.
	FaultDaily = -3
	// FaultSlow delays the request by the endpoint's Fault.Slow (default 2 s), then serves it.
	FaultSlow = -4
)

type faultKind int

const (
	faultNone faultKind = iota
	faultDrop
	faultStatus
	faultEmpty
)

type faultAction struct {
	kind   faultKind
	status int
	slow   time.Duration
}

// SetFault sets random fault rates for an endpoint (EndpointAll for every endpoint
// without its own). The zero Fault clears it.
func (s *Server) SetFault(endpoint string, f Fault) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	delete(s.faultHits, endpoint)
	if f == (Fault{}) {
		delete(s.faults, endpoint)
		return
	}
	s.faults[endpoint] = f
}

// FailNext makes the next requests to endpoint (EndpointAll for any) answer the
// given codes in order: HTTP statuses or Fault* codes. It takes precedence over SetFault.
func (s *Server) FailNext(endpoint string, codes ...int) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.failNext[endpoint] = append(s.failNext[endpoint], codes...)
}

// ClearFaults removes every fault and pending FailNext code.
func (s *Server) ClearFaults() {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = map[string]Fault{}
	s.faultHits = map[string]int{}
	s.failNext = map[string][]int{}
}

func (s *Server) decideFault(endpoint string) faultAction {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	key := endpoint
	f, ok := s.faults[endpoint]
	if !ok {
		key, f = EndpointAll, s.faults[EndpointAll]
	}
	slow := f.Delay()
	for _, key := range []string{endpoint, EndpointAll} {
		if q := s.failNext[key]; len(q) > 0 {
			code := q[0]
			if len(q) == 1 {
				delete(s.failNext, key)
			} else {
				s.failNext[key] = q[1:]
			}
			switch code {
			case FaultDrop:
				return faultAction{kind: faultDrop}
			case FaultEmpty2xx:
				return faultAction{kind: faultEmpty}
			case FaultSlow:
				return faultAction{slow: slow}
			default:
				return faultAction{kind: faultStatus, status: code}
			}
		}
	}
	if f == (Fault{}) || (f.Max > 0 && s.faultHits[key] >= f.Max) {
		return faultAction{}
	}
	var act faultAction
	outcome, isSlow := f.Rates().Draw(s.rnd)
	if isSlow {
		act.slow = slow
	}
	if outcome != sandbox.Pass || isSlow {
		s.faultHits[key]++
	}
	st5 := f.Status
	if st5 == 0 {
		st5 = http.StatusBadGateway
	}
	switch outcome {
	case sandbox.Drop:
		act.kind = faultDrop
	case sandbox.ServerError:
		act.kind, act.status = faultStatus, st5
	case sandbox.TooManyRequests:
		act.kind, act.status = faultStatus, http.StatusTooManyRequests
	case sandbox.Empty2xx:
		act.kind = faultEmpty
	}
	return act
}

// writeInjected answers an injected status.
func (s *Server) writeInjected(w http.ResponseWriter, endpoint string, status int) {
	switch {
	case status == FaultDaily:
		s.write429(w, PolicyDaily)
	case status == http.StatusTooManyRequests && endpoint == EndpointSearch:
		s.write429(w, PolicySecondly)
	case status == http.StatusTooManyRequests:
		s.write429(w, PolicyTenSecondly)
	case status == 477:
		w.Header().Set("Retry-After", "1")
		s.writeError(w, status, "MIGRATION_IN_PROGRESS", "portal migration in progress", nil)
	case status == http.StatusLocked:
		s.writeError(w, status, "LOCKED", "the resource is locked", nil)
	case status >= 502:
		// Gateways in front of HubSpot answer HTML, not JSON.
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("<html><body><h1>" + http.StatusText(status) + "</h1></body></html>"))
	default:
		s.writeError(w, status, "INTERNAL_ERROR", "internal error", nil)
	}
}
