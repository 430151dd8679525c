package inbound

import (
	"maps"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/store"
)

// Plan is what an inbound run would write to one profile's Userpilot record
// for one HubSpot record (the preview's view of the planner).
type Plan struct {
	// Meta is the Userpilot metadata the run would write, typed as the run
	// types it (a nil value removes the property). Empty: nothing new.
	Meta map[string]any
	// Untyped lists HubSpot properties whose value does not read as its
	// HubSpot type (sent as text).
	Untyped []string
	// Counts are the planner's counts for the record (Linked, Relinked,
	// Unlinked, Echoes, ...).
	Counts Counts
}

// PlanRecord applies the linking rules and the diff of a run to a copy of p
// and HubSpot record rec, and types the values with types (HubSpot property
// -> type, as ListProperties gives). p itself is not changed and nothing is
// read or written: it is the planning half of a page's commit, for the
// read-only preview.
func PlanRecord(obj Object, env string, now time.Time, p *store.Profile, rec hubspot.Record, types map[string]string) Plan {
	cp := cloneProfile(p)
	profiles := map[string]*store.Profile{cp.ID: cp}
	byHubSpot, byMatch := map[string][]string{}, map[string][]string{}
	if cp.HubSpotID != "" {
		byHubSpot[cp.HubSpotID] = []string{cp.ID}
	}
	if cp.MatchValue != "" {
		byMatch[cp.MatchValue] = []string{cp.ID}
	}
	pl := newPlanner(obj, env, now, profiles, byHubSpot, byMatch)
	pl.apply(obj.view(rec))
	out := Plan{Meta: map[string]any{}}
	for _, c := range pl.result() {
		if c.p.ID == cp.ID {
			maps.Copy(out.Meta, c.meta)
		}
	}
	if types != nil {
		out.Untyped = TypeMeta(obj, types, out.Meta)
	}
	out.Counts = pl.counts
	return out
}

// cloneProfile copies what the planner mutates (link fields, hashes).
func cloneProfile(p *store.Profile) *store.Profile {
	cp := *p
	cp.InboundHashes = maps.Clone(p.InboundHashes)
	cp.OutboundHashes = maps.Clone(p.OutboundHashes)
	cp.Properties = maps.Clone(p.Properties)
	return &cp
}

// RecordProperties are the HubSpot properties a run reads of each record:
// the match key, the identity properties and the inbound ones.
func (o Object) RecordProperties() []string { return o.properties() }
