package inbound

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/store"
)

// pageInput is one page of HubSpot records with what the store knows about
// them.
type pageInput struct {
	views              []record
	profiles           map[string]*store.Profile
	byHubSpot, byMatch map[string][]string
	// next is the checkpoint once the page is written.
	next cursorState
}

// prepare looks up the profiles a page may link: those linked to its record
// ids (and ids merged into them) and those matching its match values.
func (r *run) prepare(ctx context.Context, obj Object, recs []hubspot.Record) (*pageInput, error) {
	in := &pageInput{views: make([]record, 0, len(recs)), profiles: map[string]*store.Profile{}}
	var hsIDs, values, direct []string
	for _, rec := range recs {
		if rec.Archived {
			continue
		}
		v := obj.view(rec)
		in.views = append(in.views, v)
		hsIDs = append(hsIDs, v.id)
		hsIDs = append(hsIDs, v.merged...)
		if obj.idMatch() {
			if v.primary != "" {
				direct = append(direct, v.primary)
			}
			continue
		}
		if v.primary != "" {
			values = append(values, v.primary)
		}
		values = append(values, v.additional...)
	}
	var err error
	in.byHubSpot, in.byMatch, err = r.lookups(ctx, obj, uniq(hsIDs), uniq(values))
	if err != nil {
		return nil, err
	}
	ids := slices.Clone(direct)
	for _, m := range []map[string][]string{in.byHubSpot, in.byMatch} {
		for _, ps := range m {
			ids = append(ids, ps...)
		}
	}
	if ids = uniq(ids); len(ids) > 0 {
		ps, err := r.store.GetProfiles(ctx, r.env, obj.Kind, ids)
		if err != nil {
			return nil, fmt.Errorf("read %d profiles: %w", len(ids), err)
		}
		maps.Copy(in.profiles, ps)
	}
	return in, nil
}

// commit links a prepared page, writes the changes to Userpilot and saves
// the profiles; carried are the profiles the previous page saved, newer than
// what prepare read. It returns the profiles it saved. A nil error means the
// page is fully written (permanent per-record failures included: they are
// reported, and retried only when the record changes again); an error means
// the checkpoint must not move.
func (r *run) commit(ctx context.Context, obj Object, in *pageInput, carried map[string]*store.Profile, or *ObjectReport) (map[string]*store.Profile, error) {
	maps.Copy(in.profiles, carried)
	// The lookups ran before the previous page was saved: add the links it
	// made, so that this page follows them (a merge, an unlink). Links it
	// removed need nothing: a profile whose HubSpotID moved on is skipped.
	for _, id := range slices.Sorted(maps.Keys(carried)) {
		p := carried[id]
		if p.HubSpotID == "" || slices.Contains(in.byHubSpot[p.HubSpotID], id) {
			continue
		}
		if in.byHubSpot == nil {
			in.byHubSpot = map[string][]string{}
		}
		in.byHubSpot[p.HubSpotID] = append(in.byHubSpot[p.HubSpotID], id)
	}
	pl := newPlanner(obj, r.env, r.now(), in.profiles, in.byHubSpot, in.byMatch)
	for _, v := range in.views {
		pl.apply(v)
	}
	changes := pl.result()
	results := r.write(ctx, obj, changes)
	var retry error
	for i, c := range changes {
		err := results[i]
		if err == nil {
			c.applyWritten()
			pl.touched[c.p.ID] = true
			pl.counts.Written++
			continue
		}
		pl.counts.Failed++
		permanent := isPermanent(err)
		if len(or.Failures) < maxReportedFailures {
			or.Failures = append(or.Failures, Failure{Profile: c.p.ID, HubSpotID: c.p.HubSpotID, Reason: err.Error(), Permanent: permanent})
		}
		if !permanent && retry == nil {
			retry = err
		}
	}
	or.Counts.Add(pl.counts)
	if err := r.save(ctx, obj, pl, changes, results); err != nil {
		return nil, err
	}
	if retry != nil {
		return nil, fmt.Errorf("userpilot write (retried next run): %w", retry)
	}
	saved := make(map[string]*store.Profile, len(pl.touched))
	for id := range pl.touched {
		saved[id] = pl.profiles[id]
	}
	return saved, nil
}

// lookups finds the profiles linked to the page's HubSpot ids and those
// matching its match values, concurrently.
func (r *run) lookups(ctx context.Context, obj Object, hsIDs, values []string) (byHubSpot, byMatch map[string][]string, err error) {
	var wg sync.WaitGroup
	var errHS, errMatch error
	if len(hsIDs) > 0 {
		wg.Go(func() { byHubSpot, errHS = r.store.LookupByHubSpotID(ctx, r.env, obj.Kind, hsIDs) })
	}
	if len(values) > 0 {
		wg.Go(func() { byMatch, errMatch = r.store.LookupByMatch(ctx, r.env, obj.Kind, values) })
	}
	wg.Wait()
	if errHS != nil {
		return nil, nil, fmt.Errorf("look up %d hubspot ids: %w", len(hsIDs), errHS)
	}
	if errMatch != nil {
		return nil, nil, fmt.Errorf("look up %d match values: %w", len(values), errMatch)
	}
	return byHubSpot, byMatch, nil
}
