package outbound

import (
	"context"
	"iter"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
)

// Store is the part of shared/store the push uses.
type Store interface {
	DirtyProfiles(ctx context.Context, env string, kind store.Kind) iter.Seq2[*store.Profile, error]
	GetProfile(ctx context.Context, env string, kind store.Kind, id string) (*store.Profile, error)
	PutProfiles(ctx context.Context, ps []*store.Profile) error
	AcquireLease(ctx context.Context, env, name, owner string, ttl time.Duration) error
	RenewLease(ctx context.Context, env, name, owner string, ttl time.Duration) error
	ReleaseLease(ctx context.Context, env, name, owner string) error
	PutRun(ctx context.Context, r store.RunRecord) error
}

// HubSpot is the part of the HubSpot client the push uses.
type HubSpot interface {
	ListProperties(ctx context.Context, objectType string) ([]hubspot.Property, error)
	BatchUpdate(ctx context.Context, objectType string, inputs []hubspot.UpdateInput) (*hubspot.BatchUpdateResult, error)
}

// Linker resolves profiles to HubSpot records (shared/identity/linker). Both
// calls return, keyed by profile id, what each profile is linked to now, and
// update the passed profiles in place (link fields, Version), so they can be
// stored again without a version conflict.
type Linker interface {
	// Resolve keeps valid links and resolves stale or missing ones by the
	// match value.
	Resolve(ctx context.Context, kind store.Kind, ps []*store.Profile) (map[string]identity.Resolution, error)
	// Gone handles records HubSpot said are deleted or merged away: unlink,
	// then resolve again by the match value.
	Gone(ctx context.Context, kind store.Kind, ps []*store.Profile) (map[string]identity.Resolution, error)
}

var _ Store = (*store.Store)(nil)
var _ HubSpot = (*hubspot.Client)(nil)
