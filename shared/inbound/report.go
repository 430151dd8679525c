package inbound

import (
	"time"

	"github.com/pilotsync/pilotsync/shared/runreport"
)

// JobInbound names the inbound poll in run records and leases.
const JobInbound = "inbound"

// Mode selects how the inbound poll reads HubSpot.
type Mode string

// Inbound modes.
const (
	// ModeIncremental walks the records modified since the checkpoint (the
	// 5-minute schedule). With no checkpoint yet it runs a full sync.
	ModeIncremental Mode = "incremental"
	// ModeFull lists every record and links everything ("sync now", the
	// first run). A full sync interrupted by the time budget is continued by
	// the next run, whichever mode it asks for.
	ModeFull Mode = "full"
)

// Run statuses (runreport's, shared with the outbound push).
const (
	// StatusComplete: every object type caught up.
	StatusComplete = runreport.StatusComplete
	// StatusPartial: the time budget stopped the run after a checkpoint;
	// the next run continues.
	StatusPartial = runreport.StatusPartial
	// StatusFailed: at least one object type stopped on an error; it
	// resumes from its last checkpoint on the next run.
	StatusFailed = runreport.StatusFailed
	// StatusLeaseHeld: another inbound run holds the lease; this one did
	// nothing.
	StatusLeaseHeld = runreport.StatusLeaseHeld
)

// Report is the outcome of one inbound run, returned by the poll function as
// JSON and saved as a run record.
type Report struct {
	runreport.Header
	Job     string         `json:"job"`
	Mode    Mode           `json:"mode"`
	Objects []ObjectReport `json:"objects,omitempty"`
	// Totals sums the counts of every object type.
	Totals Counts `json:"totals"`
}

// ObjectReport is the outcome for one object type.
type ObjectReport struct {
	// Object is "users" or "companies".
	Object        string `json:"object"`
	HubSpotObject string `json:"hubspot_object"`
	// Mode is the mode actually used (a first run is a full sync).
	Mode     Mode `json:"mode"`
	Complete bool `json:"complete"`
	Counts
	// Failures lists records whose Userpilot write failed, with the reason
	// (at most maxReportedFailures; Counts.Failed has the total).
	Failures []Failure `json:"failures,omitempty"`
	// Message says why an object type is not complete without an error
	// (the time budget).
	Message string `json:"message,omitempty"`
	// Error is the text of the error that stopped the object type, as the
	// JSON report and the run record keep it.
	Error string `json:"error,omitempty"`
	// Err is that error itself, with the clients' typed errors in its chain
	// (hubspot.ErrDailyLimit, *hubspot.APIError, userpilot.ErrUnauthorized,
	// ...), for callers that branch on the cause (shared/alert) with
	// errors.Is/As rather than on wording. Only set in the process that ran
	// the object type: it is not serialized, so a report decoded from JSON
	// or rebuilt from a run record has the text alone.
	Err error `json:"-"`
	// Cause is why the object type stopped (shared/cause: hubspot_auth,
	// hubspot_daily_limit, userpilot_auth, outage, ...), named from Err
	// where it was made, so a report decoded from JSON or a run record keeps
	// it without matching error text. Empty when it did not stop on an error.
	Cause string `json:"cause,omitempty"`
	// CursorAt is where the object type's checkpoint stands after the run:
	// every HubSpot change before it has been read (during a full sync, where
	// the incremental walk resumes once it is done). Zero when the checkpoint
	// could not be read.
	CursorAt time.Time `json:"cursor_at,omitzero"`
	// CursorLagSeconds is how far CursorAt is behind the run's end: how late
	// a HubSpot change may reach Userpilot. It is never below the search
	// overlap (schedule.search_overlap), which is re-read on every poll.
	CursorLagSeconds float64 `json:"cursor_lag_seconds,omitempty"`
}

// Failure is one profile whose Userpilot write failed.
type Failure struct {
	// Profile is the Userpilot user or company id.
	Profile string `json:"profile"`
	// HubSpotID is the linked HubSpot record.
	HubSpotID string `json:"hubspot_id"`
	// Reason is the error, without values.
	Reason string `json:"reason"`
	// Permanent failures are not retried until the record changes again;
	// the others are retried by the next run.
	Permanent bool `json:"permanent"`
}
