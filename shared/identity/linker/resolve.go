package linker

import (
	"context"
	"errors"
	"fmt"

	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
)

// saveAttempts bounds re-resolving profiles another writer changed while
// they were being linked (an identify event, the inbound poll).
const saveAttempts = 5

// Resolve returns, keyed by profile id, the record each profile of ps is
// linked to after resolution. A valid link is kept without any call; stale
// and missing links are resolved by one batch read on the match values
// (additional emails when enabled) and written to the store: linked,
// re-linked, or unlinked when HubSpot has no record with the value (then
// NotFound). The profiles are updated in place (link fields, Version), so the
// caller can store them again without a version conflict. A profile with
// Version 0 is created in the store when it gets linked.
func (l *Linker) Resolve(ctx context.Context, kind store.Kind, ps []*store.Profile) (map[string]identity.Resolution, error) {
	return l.resolve(ctx, kind, ps, nil, saveAttempts)
}

// Gone handles profiles whose linked record HubSpot reports deleted or
// archived (a refused event, a 404): each is unlinked and resolved again by
// its match value. Linked with the same id means HubSpot still knows that
// record under the match value (it was not the link that failed).
func (l *Linker) Gone(ctx context.Context, kind store.Kind, ps []*store.Profile) (map[string]identity.Resolution, error) {
	force := make(map[string]bool, len(ps))
	for _, p := range ps {
		force[p.ID] = true
	}
	return l.resolve(ctx, kind, ps, force, saveAttempts)
}

// resolve resolves ps; profiles in force are looked up even with a valid link.
func (l *Linker) resolve(ctx context.Context, kind store.Kind, ps []*store.Profile, force map[string]bool, attempts int) (map[string]identity.Resolution, error) {
	obj, err := l.object(kind)
	if err != nil {
		return nil, err
	}
	out := make(map[string]identity.Resolution, len(ps))
	var todo []*store.Profile
	var values []string
	seen := map[string]bool{}
	var changed []*store.Profile
	for _, p := range ps {
		m := obj.matchValue(kind, p)
		switch {
		case m == "":
			r := identity.Resolution{Outcome: identity.NoMatchValue}
			if Unlink(p) {
				r.Unlinked = true
				changed = append(changed, p)
			}
			out[p.ID] = r
		case !force[p.ID] && p.Link().ValidFor(m, obj.HubSpotObject):
			out[p.ID] = identity.Resolution{HubSpotID: p.HubSpotID, Outcome: identity.Linked}
		default:
			todo = append(todo, p)
			if !seen[m] {
				seen[m] = true
				values = append(values, l.lookupValue(kind, obj, p, m))
			}
		}
	}
	found := map[string]string{}
	if len(values) > 0 {
		if found, err = l.find(ctx, obj, values); err != nil {
			return out, err
		}
	}
	for _, p := range todo {
		m := obj.matchValue(kind, p)
		old := p.HubSpotID
		if id, ok := found[m]; ok {
			r := identity.Resolution{HubSpotID: id, Outcome: identity.Linked, Relinked: old != "" && old != id}
			if Set(p, id, obj.HubSpotObject, m) {
				changed = append(changed, p)
			}
			out[p.ID] = r
			continue
		}
		r := identity.Resolution{Outcome: identity.NotFound}
		if Unlink(p) {
			r.Unlinked = old != ""
			changed = append(changed, p)
		}
		out[p.ID] = r
	}
	conflicted, err := l.save(ctx, kind, changed)
	if err != nil {
		return out, err
	}
	if len(conflicted) == 0 {
		return out, nil
	}
	if attempts <= 1 {
		return out, fmt.Errorf("linker: link %d %s profiles: still changed by another writer after %d attempts: %w", len(conflicted), kind, saveAttempts, store.ErrConflict)
	}
	// Another writer changed these profiles meanwhile: start again from what
	// the store holds now (its link may already be right, or its match value
	// may have moved on).
	again, err := l.resolve(ctx, kind, conflicted, force, attempts-1)
	for id, r := range again {
		out[id] = r
	}
	return out, err
}

// lookupValue is the value a profile is looked up by in HubSpot: the id as
// given for id matches (HubSpot's property holds the Userpilot id as is),
// else the normalized match value.
func (l *Linker) lookupValue(kind store.Kind, obj Object, p *store.Profile, m string) string {
	if obj.IDMatch(kind) {
		return p.ID
	}
	return m
}

// find looks values up in HubSpot and returns normalized value → record id.
func (l *Linker) find(ctx context.Context, obj Object, values []string) (map[string]string, error) {
	out := make(map[string]string, len(values))
	if obj.MatchHubSpot == "email" && obj.AdditionalEmails {
		recs, err := l.hs.FindByEmails(ctx, obj.HubSpotObject, values, nil)
		if err != nil {
			return nil, fmt.Errorf("linker: find %d %s by email: %w", len(values), obj.HubSpotObject, err)
		}
		for v, r := range recs {
			out[identity.Normalize(v)] = r.ID
		}
		return out, nil
	}
	res, err := l.hs.BatchRead(ctx, obj.HubSpotObject, values, obj.MatchHubSpot, nil)
	if err != nil {
		return nil, fmt.Errorf("linker: find %d %s by %s: %w", len(values), obj.HubSpotObject, obj.MatchHubSpot, err)
	}
	for v, id := range res.ByRequest {
		out[identity.Normalize(v)] = id
	}
	return out, nil
}

// save stores the changed profiles. Profiles another writer changed meanwhile
// are re-read into place and returned for another resolution.
func (l *Linker) save(ctx context.Context, kind store.Kind, ps []*store.Profile) ([]*store.Profile, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	err := l.st.PutProfiles(ctx, ps)
	if err == nil {
		return nil, nil
	}
	var be *store.BatchError
	if !errors.As(err, &be) {
		return nil, fmt.Errorf("linker: store %d %s links: %w", len(ps), kind, err)
	}
	var ids []string
	for _, f := range be.Failed {
		if !errors.Is(f.Err, store.ErrConflict) {
			return nil, fmt.Errorf("linker: store %d %s links: %w", len(ps), kind, err)
		}
		ids = append(ids, f.ID)
	}
	fresh, err := l.st.GetProfiles(ctx, l.env, kind, ids)
	if err != nil {
		return nil, fmt.Errorf("linker: re-read %d %s profiles after a conflict: %w", len(ids), kind, err)
	}
	byID := make(map[string]*store.Profile, len(ps))
	for _, p := range ps {
		byID[p.ID] = p
	}
	var again []*store.Profile
	for _, id := range ids {
		p := byID[id]
		if f := fresh[id]; f != nil {
			*p = *f
		}
		again = append(again, p)
	}
	return again, nil
}
