package outbound

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pilotsync/pilotsync/shared/runreport"
	"github.com/pilotsync/pilotsync/shared/store"
)

// JobOutbound names the push in run records and its lease.
const JobOutbound = "outbound"

// Run statuses (runreport's, shared with the inbound poll).
const (
	StatusComplete  = runreport.StatusComplete
	StatusPartial   = runreport.StatusPartial
	StatusFailed    = runreport.StatusFailed
	StatusLeaseHeld = runreport.StatusLeaseHeld
)

// Counts are what a run did to one kind's dirty profiles.
type Counts struct {
	// Considered: dirty profiles read.
	Considered int64 `json:"considered"`
	// Changed: linked profiles with at least one value to send.
	Changed int64 `json:"changed"`
	// Sent: records HubSpot accepted; Values: property values in them.
	Sent   int64 `json:"sent"`
	Values int64 `json:"values"`
	// Unchanged: linked profiles with nothing new to send.
	Unchanged int64 `json:"unchanged"`
	// Quarantined: records with a value refused for good.
	Quarantined int64 `json:"quarantined"`
	// Unmatched: profiles HubSpot does not know (left alone).
	Unmatched int64 `json:"unmatched"`
	// Gone: records HubSpot reported deleted or merged (sent to the linker).
	Gone int64 `json:"gone"`
	// Retry: records that failed retryably; their mark stays.
	Retry int64 `json:"retry"`
	// Echoes: values not sent because inbound copied them from HubSpot.
	Echoes int64 `json:"echoes"`
	// Stale: values not sent because a newer one was sent already.
	Stale int64 `json:"stale"`
	// Batches: batch update calls.
	Batches int64 `json:"batches"`
	// StoreReads and StoreWrites count profiles read and written.
	StoreReads  int64 `json:"store_reads"`
	StoreWrites int64 `json:"store_writes"`
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	c.Considered += o.Considered
	c.Changed += o.Changed
	c.Sent += o.Sent
	c.Values += o.Values
	c.Unchanged += o.Unchanged
	c.Quarantined += o.Quarantined
	c.Unmatched += o.Unmatched
	c.Gone += o.Gone
	c.Retry += o.Retry
	c.Echoes += o.Echoes
	c.Stale += o.Stale
	c.Batches += o.Batches
	c.StoreReads += o.StoreReads
	c.StoreWrites += o.StoreWrites
}

func (c Counts) fields() map[string]int64 {
	return map[string]int64{
		"considered": c.Considered, "changed": c.Changed, "sent": c.Sent, "values": c.Values,
		"unchanged": c.Unchanged, "quarantined": c.Quarantined, "unmatched": c.Unmatched, "gone": c.Gone,
		"retry": c.Retry, "echoes": c.Echoes, "stale": c.Stale, "batches": c.Batches,
		"store_reads": c.StoreReads, "store_writes": c.StoreWrites,
	}
}

// Quarantine is the records one reason quarantined in a run.
type Quarantine struct {
	// Property is the HubSpot property refused.
	Property string `json:"property"`
	// Category is HubSpot's error category (VALIDATION_ERROR, ...) or
	// TYPE_MISMATCH for a value the codec could not convert.
	Category string `json:"category"`
	// Reason is the first record's full reason.
	Reason string `json:"reason"`
	Count  int    `json:"count"`
	// Records lists the first few "<profile id> (HubSpot <id>)".
	Records []string `json:"records,omitempty"`
}

// maxListedRecords caps the records listed per quarantine reason.
const maxListedRecords = 5

// ObjectReport is one kind's outcome.
type ObjectReport struct {
	Object        string `json:"object"`
	HubSpotObject string `json:"hubspot_object"`
	Complete      bool   `json:"complete"`
	Counts
	Quarantines []Quarantine `json:"quarantines,omitempty"`
	// Blocked lists mapped HubSpot properties that are missing or read-only.
	Blocked []string `json:"blocked,omitempty"`
	Message string   `json:"message,omitempty"`
	Error   string   `json:"error,omitempty"`
	// Err is the error that stopped the kind, typed (for shared/alert); not
	// serialized.
	Err error `json:"-"`

	byReason map[string]*Quarantine
}

// quarantined counts one refused record under its reason.
func (or *ObjectReport) quarantined(profile, hubspotID, property, reason string) {
	cat, _, _ := strings.Cut(reason, ":")
	key := cat + "/" + property
	if or.byReason == nil {
		or.byReason = map[string]*Quarantine{}
	}
	q := or.byReason[key]
	if q == nil {
		q = &Quarantine{Property: property, Category: cat, Reason: reason}
		or.byReason[key] = q
	}
	q.Count++
	if len(q.Records) < maxListedRecords {
		q.Records = append(q.Records, fmt.Sprintf("%s (HubSpot %s)", profile, hubspotID))
	}
}

func (or *ObjectReport) finish() {
	or.Quarantines = or.Quarantines[:0]
	for _, key := range slices.Sorted(maps.Keys(or.byReason)) { // category/property
		or.Quarantines = append(or.Quarantines, *or.byReason[key])
	}
}

// Report is one run's outcome, returned in the poll's JSON and saved as a
// run record.
type Report struct {
	runreport.Header
	Objects []ObjectReport `json:"objects,omitempty"`
	Totals  Counts         `json:"totals"`
}

// runRecord is the stored form of rep.
func runRecord(env string, rep *Report) store.RunRecord {
	rec := store.RunRecord{Env: env, Job: JobOutbound, ID: rep.RunID, Started: rep.Started, Finished: rep.Finished,
		Counts: map[string]int64{"duration_ms": rep.DurationMS}, APICalls: rep.APICalls, Error: rep.Error}
	for _, o := range rep.Objects {
		for k, v := range o.Counts.fields() {
			rec.Counts[o.Object+"."+k] = v
		}
		for _, q := range o.Quarantines {
			for _, r := range q.Records {
				rec.Failures = append(rec.Failures, store.Failure{Record: o.Object + "/" + r, Field: q.Property, Reason: q.Reason})
			}
		}
	}
	for k, v := range rep.Totals.fields() {
		rec.Counts[k] = v
	}
	rec.Counts["complete"] = 0
	if rep.Complete {
		rec.Counts["complete"] = 1
	}
	return rec
}
