package inbound

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/pilotsync/pilotsync/shared/store"
)

// save stores every profile the page touched. A profile changed meanwhile
// by someone else (an identify event) is re-read and the page's changes
// re-applied to it.
func (r *run) save(ctx context.Context, obj Object, pl *planner, changes []*change, results []error) error {
	var ps []*store.Profile
	for _, id := range slices.Sorted(maps.Keys(pl.touched)) {
		ps = append(ps, pl.profiles[id])
	}
	written := map[string]*change{}
	for i, c := range changes {
		if results[i] == nil {
			written[c.p.ID] = c
		}
	}
	for attempt := 1; len(ps) > 0; attempt++ {
		err := r.store.PutProfiles(ctx, ps)
		if err == nil {
			return nil
		}
		var be *store.BatchError
		if !errors.As(err, &be) || attempt >= saveAttempts {
			return fmt.Errorf("save %d profiles: %w", len(ps), err)
		}
		var conflicted []string
		for _, f := range be.Failed {
			if !errors.Is(f.Err, store.ErrConflict) {
				return fmt.Errorf("save profile: %w", err)
			}
			conflicted = append(conflicted, f.ID)
		}
		fresh, err := r.store.GetProfiles(ctx, r.env, obj.Kind, conflicted)
		if err != nil {
			return fmt.Errorf("re-read %d conflicting profiles: %w", len(conflicted), err)
		}
		ps = ps[:0]
		for _, id := range conflicted {
			mine := pl.profiles[id]
			f := fresh[id]
			if f == nil {
				// Gone or never created: store ours as new.
				mine.Version = 0
				ps = append(ps, mine)
				continue
			}
			f.HubSpotID, f.HubSpotObject = mine.HubSpotID, mine.HubSpotObject
			if f.InboundHashes == nil {
				f.InboundHashes = map[string]string{}
			}
			maps.Copy(f.InboundHashes, mine.InboundHashes)
			if c := written[id]; c != nil {
				c.p = f
				c.applyWritten()
			}
			pl.profiles[id] = f
			ps = append(ps, f)
		}
	}
	return nil
}
