package inbound

import (
	"context"
	"iter"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/store"
	"github.com/pilotsync/pilotsync/shared/userpilot"
)

// InboundStore is the part of shared/store the inbound poll uses.
type InboundStore interface {
	GetProfiles(ctx context.Context, env string, kind store.Kind, ids []string) (map[string]*store.Profile, error)
	PutProfiles(ctx context.Context, ps []*store.Profile) error
	LookupByMatch(ctx context.Context, env string, kind store.Kind, values []string) (map[string][]string, error)
	LookupByHubSpotID(ctx context.Context, env string, kind store.Kind, ids []string) (map[string][]string, error)
	GetCursor(ctx context.Context, env, name string) (string, error)
	PutCursorLeased(ctx context.Context, env, name, value, lease, owner string) error
	AcquireLease(ctx context.Context, env, name, owner string, ttl time.Duration) error
	RenewLease(ctx context.Context, env, name, owner string, ttl time.Duration) error
	ReleaseLease(ctx context.Context, env, name, owner string) error
	PutRun(ctx context.Context, r store.RunRecord) error
}

// HubSpotReader is the part of the HubSpot client the inbound poll uses.
type HubSpotReader interface {
	WalkModified(ctx context.Context, objectType string, from hubspot.WalkCursor, properties []string) iter.Seq2[*hubspot.WalkPage, error]
	List(ctx context.Context, objectType string, properties []string, after string, limit int) (*hubspot.ListPage, error)
}

// UserpilotWriter is the part of the Userpilot client the inbound poll uses.
type UserpilotWriter interface {
	IdentifyUser(ctx context.Context, u userpilot.User) error
	IdentifyCompany(ctx context.Context, co userpilot.Company) error
	BulkIdentifyUsers(ctx context.Context, users []userpilot.User) ([]userpilot.Job, error)
	BulkIdentifyCompanies(ctx context.Context, cos []userpilot.Company) ([]userpilot.Job, error)
}
