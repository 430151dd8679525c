package preview

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/measured"
	"github.com/pilotsync/pilotsync/shared/outbound"
	"github.com/pilotsync/pilotsync/shared/store"
)

// Match states of a previewed record.
const (
	// MatchLinked: the stored link is valid and the record exists.
	MatchLinked = "linked"
	// MatchWouldLink: not linked yet; a sync would link it to HubSpotID.
	MatchWouldLink = "would_link"
	// MatchNotFound: HubSpot has no record with the match value.
	MatchNotFound = "not_found"
	// MatchAmbiguous: more than one HubSpot record carries the match value.
	MatchAmbiguous = "ambiguous"
	// MatchMerged: the linked record was merged into HubSpotID.
	MatchMerged = "merged"
	// MatchStale: the link was made under another match value, or its
	// record is gone; a sync re-resolves it (to HubSpotID when found).
	MatchStale = "stale_link"
	// MatchNoValue: the profile has no match value.
	MatchNoValue = "no_match_value"
	// MatchNotMapped: the kind is not synced in the config.
	MatchNotMapped = "not_mapped"
)

// record previews one reference.
func (p *Preview) record(ctx context.Context, kind store.Kind, ref string, props *propertyCache) (Record, error) {
	out := Record{Kind: kind, Ref: ref}
	lo, mapped := p.link[kind]
	if !mapped {
		out.Match = Match{State: MatchNotMapped, Detail: errNotMapped.Error()}
		return out, nil
	}
	prof, known, err := p.profile(ctx, kind, ref, lo.IDMatch(kind))
	if err != nil {
		return out, err
	}
	out.Known, out.ProfileID = known, prof.ID
	if known && len(prof.Quarantined) > 0 {
		for _, k := range slices.Sorted(maps.Keys(prof.Quarantined)) {
			out.Problems = append(out.Problems, Problem{Field: k, Reason: "quarantined: " + prof.Quarantined[k]})
		}
	}
	rec, found, err := p.match(ctx, kind, prof, &out.Match)
	if err != nil {
		return out, err
	}
	object := lo.HubSpotObject
	ps, err := props.get(ctx, object)
	if err != nil {
		return out, err
	}
	if io, ok := p.inbound[kind]; ok && found {
		plan := inboundPlan(io, p.env, p.now(), prof, rec, typesOf(ps))
		out.Inbound = plan.values
		out.Problems = append(out.Problems, plan.problems...)
	}
	if oo, ok := p.outbound[kind]; ok {
		out.Outbound = outbound.PlanValues(oo, ps, prof)
		for _, v := range out.Outbound {
			if v.Problem != "" {
				out.Problems = append(out.Problems, Problem{Field: v.HubSpot, Reason: v.Problem})
			}
		}
		if !found && slices.ContainsFunc(out.Outbound, func(v outbound.PlannedValue) bool { return v.State == outbound.ValueSend }) {
			out.Problems = append(out.Problems, Problem{Reason: "not linked to a HubSpot record: the custom values are not sent (" + out.Match.State + ")"})
		}
	}
	if t, ok := p.measured[kind]; ok {
		var sum *store.ActivitySummary
		if known {
			if sum, err = p.st.GetActivitySummary(ctx, p.env, kind, prof.ID); errors.Is(err, store.ErrNotFound) {
				sum, err = nil, nil // no activity recorded yet
			}
			if err != nil {
				return out, fmt.Errorf("read activity summary: %w", err)
			}
		}
		hsID := out.Match.HubSpotID
		out.Measured = measured.PlanValues(t, ps, sum, measured.PeriodOf(p.now(), p.periodDays()), hsID)
		for _, v := range out.Measured {
			if v.Problem != "" {
				out.Problems = append(out.Problems, Problem{Field: v.HubSpot, Reason: v.Problem})
			}
		}
	}
	return out, nil
}

func (p *Preview) periodDays() int {
	if d := p.cfg.Measured.PeriodDays; d > 0 {
		return d
	}
	return 30
}

// profile finds the stored profile ref names: by Userpilot id first, then by
// normalized match value. An unknown ref gives a transient profile (never
// stored) matched on ref, so the preview still shows what HubSpot holds.
func (p *Preview) profile(ctx context.Context, kind store.Kind, ref string, idMatch bool) (*store.Profile, bool, error) {
	got, err := p.st.GetProfiles(ctx, p.env, kind, []string{ref})
	if err != nil {
		return nil, false, fmt.Errorf("read profile: %w", err)
	}
	if pr := got[ref]; pr != nil {
		return pr, true, nil
	}
	v := identity.Normalize(ref)
	ids, err := p.st.LookupByMatch(ctx, p.env, kind, []string{v})
	if err != nil {
		return nil, false, fmt.Errorf("look up match value: %w", err)
	}
	if len(ids[v]) > 0 {
		id := slices.Min(ids[v]) // several profiles share it: each is linked alike
		got, err := p.st.GetProfiles(ctx, p.env, kind, []string{id})
		if err != nil {
			return nil, false, fmt.Errorf("read profile: %w", err)
		}
		if pr := got[id]; pr != nil {
			return pr, true, nil
		}
	}
	pr := &store.Profile{Env: p.env, Kind: kind, ID: ref, MatchValue: v}
	if idMatch {
		pr.MatchValue = ""
	}
	return pr, false, nil
}

// match resolves prof the way a sync would, reading only: a valid link is
// checked against HubSpot (deleted, merged), a stale or missing one is looked
// up by match value (linker.Find), and a found match value is searched for a
// second record carrying it (ambiguous).
func (p *Preview) match(ctx context.Context, kind store.Kind, prof *store.Profile, m *Match) (hubspot.Record, bool, error) {
	lo := p.link[kind]
	io := p.inbound[kind]
	value := identity.Normalize(prof.MatchValue)
	if lo.IDMatch(kind) {
		value = identity.Normalize(prof.ID)
	}
	m.Value, m.PreviousID = identity.Redact(value), prof.HubSpotID
	if value == "" {
		m.Value = ""
	}
	recProps := io.RecordProperties()
	if len(recProps) == 0 {
		recProps = []string{lo.MatchHubSpot, identity.PropMergedIDs}
	}
	if prof.HubSpotID != "" {
		res, err := p.hs.BatchRead(ctx, lo.HubSpotObject, []string{prof.HubSpotID}, "", recProps)
		if err != nil {
			return hubspot.Record{}, false, fmt.Errorf("read linked record: %w", err)
		}
		id := res.ByRequest[prof.HubSpotID]
		var rec hubspot.Record
		for _, r := range res.Results {
			if r.ID == id {
				rec = r
			}
		}
		switch {
		case id != "" && res.Merged[prof.HubSpotID] != "" && prof.Link().ValidFor(value, lo.HubSpotObject):
			m.State, m.HubSpotID = MatchMerged, id
			m.Detail = fmt.Sprintf("record %s was merged into %s: a sync follows the surviving record", prof.HubSpotID, id)
			return rec, true, nil
		case id == prof.HubSpotID && prof.Link().ValidFor(value, lo.HubSpotObject):
			m.State, m.HubSpotID = MatchLinked, id
			return rec, true, nil
		case id == "":
			m.State, m.Detail = MatchStale, fmt.Sprintf("linked record %s no longer exists in HubSpot", prof.HubSpotID)
		default:
			m.State, m.Detail = MatchStale, "the link was made under another match value"
		}
	}
	if value == "" {
		if m.State == "" {
			m.State = MatchNoValue
		}
		return hubspot.Record{}, false, nil
	}
	found, err := p.find.Find(ctx, kind, []string{value})
	if err != nil {
		return hubspot.Record{}, false, err
	}
	rec, ok := found[value]
	if !ok {
		if m.State == "" {
			m.State = MatchNotFound
		} else {
			m.Detail += "; no record has the match value: a sync unlinks it"
		}
		return hubspot.Record{}, false, nil
	}
	if n, err := p.countMatching(ctx, lo.HubSpotObject, lo.MatchHubSpot, value); err != nil {
		return hubspot.Record{}, false, err
	} else if n > 1 {
		m.State, m.HubSpotID = MatchAmbiguous, rec.ID
		m.Detail = fmt.Sprintf("%d %s carry the match value; a sync links record %s", n, lo.HubSpotObject, rec.ID)
		return rec, true, nil
	}
	if m.State == "" {
		m.State = MatchWouldLink
	} else {
		m.Detail += "; a sync re-links it to " + rec.ID
	}
	m.HubSpotID = rec.ID
	return rec, true, nil
}

// countMatching is the number of records whose property equals value (a
// search with limit 1 gives the total).
func (p *Preview) countMatching(ctx context.Context, object, property, value string) (int, error) {
	page, err := p.hs.Search(ctx, object, hubspot.SearchRequest{Limit: 1, Properties: []string{property},
		FilterGroups: []hubspot.FilterGroup{{Filters: []hubspot.Filter{{PropertyName: property, Operator: "EQ", Value: value}}}}})
	if err != nil {
		return 0, fmt.Errorf("search %s by %s: %w", object, property, err)
	}
	return page.Total, nil
}

// sortedKinds returns the keys of m, users first.
func sortedKinds[V any](m map[store.Kind]V) []store.Kind {
	var out []store.Kind
	for _, k := range []store.Kind{store.KindUser, store.KindCompany} {
		if _, ok := m[k]; ok {
			out = append(out, k)
		}
	}
	return out
}
