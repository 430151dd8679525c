package measured

import (
	"context"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
)

// Store is what the daily job needs from shared/store.
type Store interface {
	ActivitySummaries(ctx context.Context, env string, kind store.Kind, shard int, after string, limit int) ([]*store.ActivitySummary, string, error)
	GetProfiles(ctx context.Context, env string, kind store.Kind, ids []string) (map[string]*store.Profile, error)
	PutMeasuredSent(ctx context.Context, env string, kind store.Kind, id, hubspotID string, sent map[string]string) error
	GetCursor(ctx context.Context, env, name string) (string, error)
	PutCursorLeased(ctx context.Context, env, name, value, lease, owner string) error
	AcquireLease(ctx context.Context, env, name, owner string, ttl time.Duration) error
	ReleaseLease(ctx context.Context, env, name, owner string) error
	PutRun(ctx context.Context, r store.RunRecord) error
}

var _ Store = (*store.Store)(nil)

// HubSpot is what the daily job needs from the HubSpot client.
type HubSpot interface {
	ListProperties(ctx context.Context, objectType string) ([]hubspot.Property, error)
	BatchUpdate(ctx context.Context, objectType string, inputs []hubspot.UpdateInput) (*hubspot.BatchUpdateResult, error)
}

var _ HubSpot = (*hubspot.Client)(nil)

// Linker resolves profiles to the HubSpot records they are linked to (the
// identity linker, shared/identity/linker): a valid link is kept, a stale or
// missing one resolved by match value; it updates the profiles in place.
type Linker interface {
	Resolve(ctx context.Context, kind store.Kind, ps []*store.Profile) (map[string]identity.Resolution, error)
}

// AuditFunc runs the daily link audit of one kind and returns its report as
// counts for the run record (an adapter over the identity linker's Audit).
type AuditFunc func(ctx context.Context, kind store.Kind) (map[string]int64, error)
