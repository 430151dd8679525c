package forward

import (
	"context"
	"time"

	"github.com/pilotsync/pilotsync/shared/activity"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/identity/linker"
	"github.com/pilotsync/pilotsync/shared/store"
)

// Store is what the forwarder needs from shared/store.
type Store interface {
	MergeIdentify(ctx context.Context, env string, kind store.Kind, id string, in store.IdentifyInput) (*store.MergeResult, error)
	GetProfiles(ctx context.Context, env string, kind store.Kind, ids []string) (map[string]*store.Profile, error)
	PutProfile(ctx context.Context, p *store.Profile) error
	LedgerSeen(ctx context.Context, env string, ids []string) (map[string]bool, error)
	LedgerRecord(ctx context.Context, env string, ids []string, ttl time.Duration) error
	AddActivity(ctx context.Context, env string, deltas []store.ActivityDelta) error
	EnabledAt(ctx context.Context, env string, now time.Time) (time.Time, error)
}

var _ Store = (*store.Store)(nil)

// RunRecorder keeps a record of each batch (shared/store's run records, read
// by the CLI status and alerts).
type RunRecorder interface {
	PutRun(ctx context.Context, r store.RunRecord) error
}

var _ RunRecorder = (*store.Store)(nil)

// Linker resolves users to HubSpot records and writes their links
// (shared/identity/linker): the forwarder never links a profile itself.
type Linker interface {
	// Resolve keeps valid links and resolves stale or missing ones by match
	// value, storing the result (see linker.Linker.Resolve).
	Resolve(ctx context.Context, kind store.Kind, ps []*store.Profile) (map[string]identity.Resolution, error)
	// Gone re-resolves profiles whose linked record HubSpot refused.
	Gone(ctx context.Context, kind store.Kind, ps []*store.Profile) (map[string]identity.Resolution, error)
	// MatchValue is the normalized value a profile is matched on.
	MatchValue(kind store.Kind, p *store.Profile) string
}

var _ Linker = (*linker.Linker)(nil)

// Item is one activity event ready for a sink.
type Item struct {
	activity.Occurrence
	// ObjectID is the HubSpot record id the event is attached to.
	ObjectID string
	// Target is what Sink.Prepare returned for the event name (e.g. the
	// fully qualified custom event name, or a timeline template id).
	Target string
}

// Sink delivers activity events to HubSpot.
type Sink interface {
	// Name names the sink in logs and counts ("custom_events", ...).
	Name() string
	// MaxBatch is the most items one Send may carry (one API call).
	MaxBatch() int
	// Prepare returns the target of each event name it can deliver (names maps
	// event name → category and status); names it cannot (no template, a
	// definition on another object) are absent and their events dropped.
	// Implementations cache, so this costs API calls only on first sight.
	Prepare(ctx context.Context, names map[string]activity.Pair) (map[string]string, error)
	// Send delivers items in one call. It must be idempotent per item: a
	// redelivered item (same event id and name) must not show twice in HubSpot.
	Send(ctx context.Context, items []Item) error
	// Permanent reports whether err from Send means the items can never be
	// delivered as they are (validation), rather than "retry later".
	Permanent(err error) bool
}

// DeadLetterQueue takes messages that can never succeed.
type DeadLetterQueue interface {
	// DeadLetter stores msg with reason (free of personal data).
	DeadLetter(ctx context.Context, msg Message, reason string) error
}

// Message is one SQS message of the batch.
type Message struct {
	ID   string
	Body []byte
}
