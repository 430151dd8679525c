package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/pilotsync/pilotsync/shared/identity"
)

// maxMergeAttempts bounds MergeIdentify's read-merge-write retries on
// ErrConflict. Each lost race means another writer committed, so even many
// concurrent writers on one profile finish well within it.
const maxMergeAttempts = 50

// IdentifyInput is one identify event (or import row) to merge into a profile.
type IdentifyInput struct {
	// CompanyID is a user's company; "" leaves the stored one.
	CompanyID string
	// Properties to merge; a nil value removes the property.
	Properties map[string]any
	// At is the source timestamp of the values (zero: the store's now).
	At time.Time
	// MatchProperty is the Userpilot property holding the match value:
	// "user_id" / "company_id" / "id" mean the profile id itself; "" leaves
	// the stored match value.
	MatchProperty string
	// Outbound lists the Userpilot properties whose change marks the profile
	// Dirty (they are mapped to HubSpot).
	Outbound []string
}

// MergeResult is the outcome of MergeIdentify.
type MergeResult struct {
	// Profile is the profile as stored after the merge.
	Profile *Profile
	// Changed lists the properties whose value changed, sorted.
	Changed []string
	// MatchChanged reports that the match value differs from the stored one
	// (also for a new profile with a match value).
	MatchChanged bool
	// Created reports that the profile did not exist before.
	Created bool
}

// MergeIdentify merges an identify event into the profile (creating it),
// retrying on ErrConflict up to maxMergeAttempts times. Rules:
//   - per property the newer source timestamp wins: a value older than the
//     stored one is ignored, so events may arrive in any order;
//   - at an equal timestamp the incoming value wins (a redelivered event
//     carries the same value, so nothing changes; two different values at
//     the same instant have no better tie-breaker than arrival);
//   - a nil value removes the property, kept as a tombstone with its
//     timestamp so an older event cannot bring it back;
//   - the match value is recomputed from MatchProperty (normalized) and
//     MatchChanged reported; lookups follow in the same transaction;
//   - the profile is marked Dirty when a property listed in Outbound changed
//     (a merge never clears the mark);
//   - when nothing changes, nothing is written.
//
// The rules are ApplyIdentify's (the in-memory store follows them too).
func (s *Store) MergeIdentify(ctx context.Context, env string, kind Kind, id string, in IdentifyInput) (*MergeResult, error) {
	if err := checkProfileKey(env, kind, id); err != nil {
		return nil, err
	}
	in, err := PrepareIdentify(in, s.now())
	if err != nil {
		return nil, fmt.Errorf("store: merge %s %s: %w", kind, id, err)
	}
	for attempt := 0; attempt < maxMergeAttempts; attempt++ {
		if attempt > 0 {
			if err := s.backoff(ctx, min(attempt, 4)); err != nil {
				return nil, fmt.Errorf("store: merge %s %s: %w", kind, id, err)
			}
		}
		p, err := s.GetProfile(ctx, env, kind, id)
		created := false
		if errors.Is(err, ErrNotFound) {
			p, created, err = &Profile{Env: env, Kind: kind, ID: id}, true, nil
		}
		if err != nil {
			return nil, fmt.Errorf("store: merge: %w", err)
		}
		res, write := ApplyIdentify(p, in)
		res.Created = created
		if !write && !created {
			return res, nil
		}
		err = s.PutProfile(ctx, p)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("store: merge: %w", err)
		}
		return res, nil
	}
	return nil, fmt.Errorf("store: merge %s %s: gave up after %d attempts: %w", kind, id, maxMergeAttempts, ErrConflict)
}

// matchFrom computes the normalized match value of p from prop.
func matchFrom(p *Profile, prop, id string) string {
	switch prop {
	case "user_id", "company_id", "id":
		return identity.Normalize(id)
	}
	switch v := p.Properties[prop].Value.(type) {
	case nil:
		return ""
	case string:
		return identity.Normalize(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	default:
		return identity.Normalize(fmt.Sprint(v))
	}
}
