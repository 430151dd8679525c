// Package forward is the activity engine: it takes a batch of SQS messages of
// Userpilot event records and
//
//   - parses and validates every message (shared/activity); a message that can
//     never succeed goes to the dead-letter queue at once, with its reason;
//   - drops, and counts, events of the other Userpilot environment, events that
//     happened before the integration was enabled, and echoes from HubSpot;
//   - merges identify_user / identify_company into the stored profiles (marking
//     changed outbound properties dirty for the 5-minute push);
//   - adds every other event to the daily aggregates (exactly once, by event id);
//   - forwards activity events to the configured sink (HubSpot custom events by
//     default, timeline or app events), resolving HubSpot record ids from a
//     per-cold-start cache, then the store, then one batch read by match value,
//     in as few calls as the sink allows across all messages of the batch;
//   - records delivered events in the ledger and reports as failed only the
//     messages whose events were not delivered.
//
// Exactly-once: SQS delivers at least once and a Lambda may die anywhere. The
// ledger skips events already delivered; an event delivered but not yet in the
// ledger is sent again with the same deterministic id, which HubSpot drops
// (custom event uuid, app event id). Aggregates are idempotent by event id in
// the store. Identify merges are idempotent (newer source timestamp wins).
//
// One file per stage, in the order Process runs them: parse.go, identify.go,
// aggregate.go, send.go (classify, ledger check, resolve, send, ledger
// record; resolve.go holds the id lookups), recheck.go (refused events) and
// finish.go (dead letters, report, run record); batch.go holds the batch's
// state and forward.go the engine and its options.
//
// The package declares the small interfaces it consumes (Store, Finder, Sink,
// DeadLetterQueue); shared/hubspot and shared/store provide them.
package forward
