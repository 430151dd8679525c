// Package runreport is what the run reports of the inbound poll and the
// outbound push share: the run statuses, the header every report embeds
// (Header: id, status, times, API calls, message, error), how a run's status
// follows from its object types' outcomes, and the API calls a run made.
// Each flow keeps its own Report type (their counts differ); this package
// decides the parts that must read the same in both, so `pilotsync status`,
// the run records and the failure emails treat them alike.
package runreport

import "strings"

// Run statuses, shared by the inbound and outbound reports.
const (
	// StatusComplete: every object type caught up.
	StatusComplete = "complete"
	// StatusPartial: the time budget stopped the run after a checkpoint;
	// the next run continues.
	StatusPartial = "partial"
	// StatusFailed: at least one object type stopped on an error; it
	// resumes from its last checkpoint on the next run.
	StatusFailed = "failed"
	// StatusLeaseHeld: another run of the same job holds the lease; this one
	// did nothing.
	StatusLeaseHeld = "lease_held"
)

// MaxErrorLen caps a run's error summary (run records are DynamoDB items:
// one object type's long API error must not crowd out the rest).
const MaxErrorLen = 2000

// Part is one object type's outcome.
type Part struct {
	// Object names the object type ("users", "companies").
	Object string
	// Complete: the object type caught up.
	Complete bool
	// Error is the error that stopped it ("" when none).
	Error string
}

// Outcome is a run's status, decided from its parts.
type Outcome struct {
	Status   string
	Complete bool
	// Message explains a partial run (the partial message passed to Decide).
	Message string
	// Error joins the parts' errors, each prefixed with its object type, at
	// most MaxErrorLen bytes.
	Error string
}

// Decide returns a run's outcome: failed when any part has an error, partial
// (with the message partial) when a part did not catch up, complete
// otherwise. A run with no parts is complete.
func Decide(parts []Part, partial string) Outcome {
	out := Outcome{Complete: true}
	var errs []string
	for _, p := range parts {
		if !p.Complete {
			out.Complete = false
		}
		if p.Error != "" {
			errs = append(errs, p.Object+": "+p.Error)
		}
	}
	if len(errs) > 0 {
		out.Status, out.Error = StatusFailed, JoinCapped(errs)
		return out
	}
	if !out.Complete {
		out.Status, out.Message = StatusPartial, partial
		return out
	}
	out.Status = StatusComplete
	return out
}

// JoinCapped joins errs with "; ", cut at MaxErrorLen bytes (on a rune
// boundary) and marked with "…" when cut.
func JoinCapped(errs []string) string {
	s := strings.Join(errs, "; ")
	if len(s) <= MaxErrorLen {
		return s
	}
	cut := MaxErrorLen
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// Calls returns the API calls made between two readings of a client's
// per-endpoint counters: after less before, endpoints with no calls left
// out.
func Calls(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}
