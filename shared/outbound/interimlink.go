package outbound

import (
	"context"
	"errors"
	"fmt"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/store"
)

// LinkReader is the HubSpot call InterimLinker resolves with.
type LinkReader interface {
	BatchRead(ctx context.Context, objectType string, ids []string, idProperty string, properties []string) (*hubspot.BatchReadResult, error)
}

// LinkStore is the part of the store InterimLinker writes links through.
type LinkStore interface {
	GetProfile(ctx context.Context, env string, kind store.Kind, id string) (*store.Profile, error)
	PutProfiles(ctx context.Context, ps []*store.Profile) error
}

// InterimLinker is a minimal Linker for the push until the identity flow's
// linker (shared/identity/linker) is wired in its place: a profile linked to
// a record of the right object type keeps its link; any other is resolved by
// one batch read on its match value (100 a call) and the link stored. It does
// not match additional emails, and Gone only unlinks and reads again.
type InterimLinker struct {
	Env   string
	HS    LinkReader
	Store LinkStore
	// Objects maps a kind to its HubSpot object type and match property.
	Objects map[store.Kind]InterimObject
}

// InterimObject is one kind's HubSpot object type and match property.
type InterimObject struct{ HubSpotObject, MatchProperty string }

var _ Linker = (*InterimLinker)(nil)

// Resolve implements Linker.
func (l *InterimLinker) Resolve(ctx context.Context, kind store.Kind, ps []*store.Profile) (map[string]identity.Resolution, error) {
	obj, ok := l.Objects[kind]
	if !ok {
		return nil, fmt.Errorf("outbound: linker: kind %s not configured", kind)
	}
	out := make(map[string]identity.Resolution, len(ps))
	var todo []*store.Profile
	for _, p := range ps {
		switch {
		case p.HubSpotID != "" && p.HubSpotObject == obj.HubSpotObject:
			out[p.ID] = identity.Resolution{HubSpotID: p.HubSpotID, Outcome: identity.Linked}
		case p.MatchValue == "":
			out[p.ID] = identity.Resolution{Outcome: identity.NoMatchValue}
		default:
			todo = append(todo, p)
		}
	}
	if len(todo) == 0 {
		return out, nil
	}
	values := make([]string, 0, len(todo))
	for _, p := range todo {
		values = append(values, p.MatchValue)
	}
	res, err := l.HS.BatchRead(ctx, obj.HubSpotObject, values, obj.MatchProperty, nil)
	if err != nil {
		return nil, fmt.Errorf("outbound: linker: batch read %d %s: %w", len(values), obj.HubSpotObject, err)
	}
	byValue := map[string]string{}
	for k, id := range res.ByRequest {
		byValue[identity.Normalize(k)] = id
	}
	for _, r := range res.Results {
		if v := identity.Normalize(r.Properties[obj.MatchProperty]); v != "" && byValue[v] == "" {
			byValue[v] = r.ID
		}
	}
	var changed []*store.Profile
	link := map[string]string{}
	for _, p := range todo {
		id := byValue[identity.Normalize(p.MatchValue)]
		if id == "" {
			out[p.ID] = identity.Resolution{Outcome: identity.NotFound, Unlinked: p.HubSpotID != ""}
		} else {
			out[p.ID] = identity.Resolution{HubSpotID: id, Outcome: identity.Linked, Relinked: p.HubSpotID != ""}
		}
		if p.HubSpotID != id || (id != "" && p.HubSpotObject != obj.HubSpotObject) {
			link[p.ID] = id
			setLink(p, id, obj.HubSpotObject)
			changed = append(changed, p)
		}
	}
	return out, l.store(ctx, kind, obj, changed, link)
}

// Gone implements Linker: unlink, then resolve again.
func (l *InterimLinker) Gone(ctx context.Context, kind store.Kind, ps []*store.Profile) (map[string]identity.Resolution, error) {
	for _, p := range ps {
		p.HubSpotID, p.HubSpotObject = "", ""
	}
	return l.Resolve(ctx, kind, ps)
}

func setLink(p *store.Profile, id, object string) {
	p.HubSpotID, p.HubSpotObject = id, object
	if id == "" {
		p.HubSpotObject = ""
	}
}

// store writes the changed links; a profile changed meanwhile is read again
// and the link set on the fresh copy (the caller's copy is updated too).
func (l *InterimLinker) store(ctx context.Context, kind store.Kind, obj InterimObject, ps []*store.Profile, link map[string]string) error {
	byID := map[string]*store.Profile{}
	for _, p := range ps {
		byID[p.ID] = p
	}
	for attempt := 0; len(ps) > 0 && attempt < saveAttempts; attempt++ {
		err := l.Store.PutProfiles(ctx, ps)
		var be *store.BatchError
		if err == nil {
			return nil
		}
		if !errors.As(err, &be) {
			return fmt.Errorf("outbound: linker: store links: %w", err)
		}
		var retry []*store.Profile
		for _, f := range be.Failed {
			fresh, err := l.Store.GetProfile(ctx, l.Env, kind, f.ID)
			if err != nil {
				return fmt.Errorf("outbound: linker: re-read %s: %w", f.ID, err)
			}
			setLink(fresh, link[f.ID], obj.HubSpotObject)
			*byID[f.ID] = *fresh
			retry = append(retry, byID[f.ID])
		}
		ps = retry
	}
	if len(ps) > 0 {
		return fmt.Errorf("outbound: linker: store %d links: %w", len(ps), store.ErrConflict)
	}
	return nil
}
