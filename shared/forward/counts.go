package forward

import (
	"maps"
	"slices"
	"sync"
)

// Count names, the keys of Report.Counts.
const (
	CountMessages          = "messages"
	CountEvents            = "events"
	CountInvalidEvents     = "invalid_events"
	CountInvalidMessages   = "invalid_messages"
	CountOtherEnvironment  = "dropped_other_environment"
	CountBeforeEnabled     = "dropped_before_enabled"
	CountEcho              = "dropped_echo"
	CountTooOld            = "dropped_too_old"
	CountCategoryFiltered  = "dropped_category_filtered"
	CountSinkNone          = "dropped_sink_none"
	CountNoTarget          = "dropped_no_target"
	CountRejected          = "dropped_rejected"
	CountDuplicateInBatch  = "duplicates_in_batch"
	CountDuplicateLedger   = "duplicates_ledger"
	CountDerivedEventID    = "derived_event_id"
	CountIdentify          = "identify"
	CountProfilesChanged   = "profiles_changed"
	CountIdentifyFailed    = "identify_failed"
	CountAggregated        = "aggregated"
	CountAggregateFailed   = "aggregate_failed"
	CountAggregateTooOld   = "aggregate_too_old"
	CountUnknownEventType  = "unknown_event_type"
	CountUnknownEntityType = "unknown_entity_type"
	CountUnknownStatus     = "unknown_status"
	CountActivity          = "activity"
	CountResolvedStore     = "resolved_store"
	CountResolvedHubSpot   = "resolved_hubspot"
	CountUnmatched         = "unmatched"
	CountUnmatchedWaiting  = "unmatched_waiting"
	CountResolveFailed     = "resolve_failed"
	CountRelinked          = "relinked"
	CountUnlinked          = "unlinked"
	CountUnlinkedDeleted   = "unlinked_deleted"
	CountRelinkedMerged    = "relinked_merged"
	CountSent              = "sent"
	CountSendCalls         = "send_calls"
	CountSendFailed        = "send_failed"
	CountDeferred          = "deferred_deadline"
	CountLedgerErrors      = "ledger_errors"
	CountLinkErrors        = "link_errors"
	CountDeadLettered      = "dead_lettered"
	CountFailedMessages    = "failed_messages"
)

// counts is one invocation's tally; safe for concurrent use.
type counts struct {
	mu      sync.Mutex
	n       map[string]int64
	unknown map[string]int64
}

func newCounts() *counts { return &counts{n: map[string]int64{}, unknown: map[string]int64{}} }

func (c *counts) add(name string, d int) {
	if d == 0 {
		return
	}
	c.mu.Lock()
	c.n[name] += int64(d)
	c.mu.Unlock()
}

func (c *counts) addUnknown(key string) {
	c.mu.Lock()
	c.unknown[key]++
	c.mu.Unlock()
}

func (c *counts) snapshot() (map[string]int64, map[string]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.n), maps.Clone(c.unknown)
}

// Report is the outcome of one batch.
type Report struct {
	// Failed lists the ids of the messages to retry (not deleted from the queue).
	Failed []string
	// DeadLettered lists the ids of the messages sent to the dead-letter queue
	// (reported as processed, so the queue deletes them).
	DeadLettered []string
	// Counts tallies everything, keyed by the Count* names.
	Counts map[string]int64
	// Unknown counts unclassified activity by "<event_type>/<entity_type>:<status>".
	Unknown map[string]int64
	// SinkErr is the error of the last failing HubSpot-facing call that left
	// events to retry: resolving users (store read or HubSpot batch read, often
	// the first call to see a revoked token), the sink's Prepare (event
	// definitions, for custom events the first HubSpot call to see a 403 for an
	// account without Enterprise) or a Send.
	// It keeps the client's typed error (hubspot.ErrEnterpriseRequired,
	// *hubspot.APIError, ...) so alerts can name the cause at the first
	// failing batch; nil when every sink call succeeded. Events HubSpot
	// rejects for good are not here: they are dead-lettered with the reason.
	// Not serialized: run records keep counts, not errors.
	SinkErr error `json:"-"`
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
