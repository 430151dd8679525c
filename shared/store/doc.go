// Package store persists pilotsync's state in one DynamoDB table: Userpilot
// profiles and their links to HubSpot, lookups, dirty marks, cursors, leases,
// the event ledger, daily activity aggregates, run records and notification
// state. It is the only package that imports the DynamoDB SDK.
//
// # Table schema (template.yaml mirrors this; CreateTable builds it)
//
//	BillingMode:          PAY_PER_REQUEST
//	AttributeDefinitions: PK (S), SK (S), GSI1PK (S), GSI1SK (S)
//	KeySchema:            PK HASH, SK RANGE
//	GlobalSecondaryIndexes:
//	  GSI1: GSI1PK HASH, GSI1SK RANGE, Projection ALL   (sparse dirty index)
//	TimeToLiveSpecification: AttributeName expires_at (epoch seconds), Enabled
//
// # Key layout
//
// Every partition key begins with the Userpilot environment ("production",
// "staging"; it may not contain '#'), so environments never mix. Kinds are
// "user" and "company". Ids and values follow the last '#' of their prefix
// and may themselves contain '#': every prefix is fixed, so keys never clash.
//
//	item            PK                                  SK           other attributes
//	profile         <env>#<kind>#<id>                    profile      env kind id company match props hs_id hs_object hs_match
//	                                                                  in_hash out_hash out_at quarantine updated_at version
//	                                                                  [GSI1PK GSI1SK when dirty]
//	match lookup    <env>#match#<kind>#<normalized>      lookup       ids (string set of profile ids)
//	hubspot lookup  <env>#hubspot#<kind>#<hubspot id>    lookup       ids (string set of profile ids)
//	dirty mark      GSI1PK <env>#dirty#<kind>#<0..15>, GSI1SK <id>  (attributes of the profile item)
//	cursor          <env>#cursor#<name>                  cursor       value at
//	lease           <env>#lease#<name>                   lease        owner until_ms expires_at
//	enabled-at      <env>#enabled                        enabled      at
//	ledger entry    <env>#ledger#<event id>              ledger       expires_at
//	activity mark   <env>#actev#<event id>               actev        expires_at
//	day aggregate   <env>#activity#<kind>#<id>           <YYYY-MM-DD> events sessions time_spent first_ms last_ms expires_at
//	summary         <env>#msum#<kind>#<0..15>            <id>         body (JSON: days, sessions, context) ver last_ms
//	                                                                  sent sent_to expires_at (last activity + kept days)
//	summary mark    <env>#sumev#<event id>               sumev        expires_at
//	run record      <env>#run#<job>                      <started UTC, fixed width>#<run id>
//	                                                                  run (JSON body) expires_at (90 days)
//	problem         <env>#problem#<key>                  problem      summary opened_ms notified_ms seen_ms
//	names index     <env>#names#<job|cursor|lease|problem>  names     names (string set; status.go)
//
// Why this shape:
//
//   - Profiles are single items read and written whole, with a version
//     attribute for optimistic locking: a conditional put fails with
//     ErrConflict when another writer got there first. props maps each
//     Userpilot property to {v: value, t: source timestamp in Unix ns}; a NULL v
//     is a tombstone for a removed property.
//   - Lookups are separate items keyed by the value looked up, each holding a
//     string set of profile ids (a value can be shared, e.g. duplicate emails).
//     Keyed items rather than a GSI because lookups must batch (BatchGetItem,
//     100 keys a call) and be strongly consistent with the profile: every
//     profile write moves its lookup entries in the same TransactWriteItems
//     (DELETE the id from the old value's set, ADD it to the new one). The
//     profile put is conditional on the lookup values it was read with, so a
//     Profile built by hand cannot orphan entries. An emptied lookup item stays
//     as a bare key; reads treat it as absent.
//   - Dirty marks are the GSI1PK/GSI1SK attributes of the profile item,
//     present only while the profile is dirty, so GSI1 is sparse: the
//     5-minute push reads only what changed. They are spread over 16 shards
//     by a hash of the id so a burst of writes does not hit one index
//     partition; DirtyProfiles queries every shard. The index is eventually
//     consistent; the profile's version catches stale reads on write.
//   - Leases are conditional writes: acquire when free, expired (until_ms <=
//     now) or already ours; renew and release only by the owner.
//   - Property values are strings, float64, bools, lists and maps (ints are
//     stored as numbers and read back as float64); property names may not be
//     empty (DynamoDB rejects empty map keys). Items over 400 KB are refused
//     with ErrItemTooLarge naming the profile.
//   - TTL: expires_at in epoch seconds on ledger entries, activity marks,
//     day aggregates, run records and leases. DynamoDB deletes expired items
//     only eventually (DynamoDB Local never), so every read filters them.
//
// # Activity aggregates are idempotent per event
//
// AddActivity writes, in one transaction with the counter update, a marker
// item per event id (conditional on it not existing). If an event was
// already applied its delta is dropped and the rest retried, so a redelivered
// SQS batch never double-counts, even when the forwarding ledger was not
// recorded. For exact counts pass one delta per event (the store merges
// deltas of the same profile and day into one update per transaction, so
// this costs no extra calls); a delta listing several event ids is applied
// all or nothing. First and last seen are kept with conditional updates
// (min/max), which are idempotent on their own.
//
// # Rules shared with the in-memory store
//
// What a merge keeps, when a write's conditions hold, what a lease allows
// and how run records are encoded are pure functions (rules.go). The
// in-memory store in store/storetest calls the same functions, and its
// contract suite runs against both implementations.
package store
