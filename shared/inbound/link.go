package inbound

import (
	"strings"
	"time"

	"github.com/pilotsync/pilotsync/shared/hubspot"
	"github.com/pilotsync/pilotsync/shared/identity"
	"github.com/pilotsync/pilotsync/shared/identity/linker"
	"github.com/pilotsync/pilotsync/shared/store"
)

// Linking rules, applied to each HubSpot record of a page in walk order
// (ascending last-modified time, so later information wins):
//
//  1. A profile whose match value equals the record's primary match value is
//     linked to the record; if it was linked to another record it is re-linked
//     (the most recently changed record with that value wins; HubSpot keeps
//     contact emails unique, so this only arbitrates stale links).
//  2. A profile matching one of the record's additional emails is linked only
//     if it is unlinked (or already linked to this record or to one merged
//     into it): a secondary email never steals a primary-email link.
//  3. A profile linked to an id merged into this record moves to this record
//     (HubSpot's merge is authoritative identity: the old id no longer exists).
//  4. A profile linked to this record that no longer matches it (its match
//     value or the record's changed) is unlinked.
//
// With an id match (the Userpilot side is user_id / company_id) the record's
// match value names the profile; a profile is created when none is stored, so
// no import or identify event is needed before linking.

// record is what inbound needs from one HubSpot record.
type record struct {
	id         string
	primary    string   // normalized match value ("" if none); id match: trimmed id
	additional []string // normalized additional emails
	merged     []string // ids merged into this record
	props      map[string]string
	updatedAt  time.Time
}

func (o Object) view(r hubspot.Record) record {
	v := record{id: r.ID, props: r.Properties, updatedAt: r.UpdatedAt}
	raw := r.Properties[o.MatchHubSpot]
	if o.idMatch() {
		v.primary = strings.TrimSpace(raw)
	} else {
		v.primary = identity.Normalize(raw)
	}
	if o.AdditionalEmails && !o.idMatch() {
		for _, e := range identity.SplitMulti(r.Properties[identity.PropAdditionalEmails]) {
			if n := identity.Normalize(e); n != "" && n != v.primary {
				v.additional = append(v.additional, n)
			}
		}
	}
	for _, id := range identity.SplitMulti(r.Properties[identity.PropMergedIDs]) {
		if id != r.ID {
			v.merged = append(v.merged, id)
		}
	}
	return v
}

// Counts are the per-object-type counters of an inbound run.
type Counts struct {
	// Read is the number of HubSpot records read.
	Read int64 `json:"read"`
	// Linked is the number of profiles newly linked to a record.
	Linked int64 `json:"linked"`
	// Relinked is the number of profiles moved from one record to another
	// (a match value changed on either side, or a merge).
	Relinked int64 `json:"relinked"`
	// Unlinked is the number of profiles whose record no longer matches.
	Unlinked int64 `json:"unlinked"`
	// Unmatched is the number of records no profile matches.
	Unmatched int64 `json:"unmatched"`
	// Written is the number of profiles written to Userpilot.
	Written int64 `json:"written"`
	// Skipped is the number of linked profiles with nothing new to write.
	Skipped int64 `json:"skipped"`
	// Echoes is the number of values not copied back because pilotsync
	// itself wrote them to HubSpot.
	Echoes int64 `json:"echoes"`
	// Failed is the number of profiles whose Userpilot write failed.
	Failed int64 `json:"failed"`
	// Pages is the number of pages fully written and checkpointed.
	Pages int64 `json:"pages"`
}

// Add adds o's counts to c (a run's totals, or several runs' in a test).
func (c *Counts) Add(o Counts) {
	c.Read += o.Read
	c.Linked += o.Linked
	c.Relinked += o.Relinked
	c.Unlinked += o.Unlinked
	c.Unmatched += o.Unmatched
	c.Written += o.Written
	c.Skipped += o.Skipped
	c.Echoes += o.Echoes
	c.Failed += o.Failed
	c.Pages += o.Pages
}

// change is what one page does to one profile's Userpilot record.
type change struct {
	p *store.Profile
	// meta is what to write to Userpilot (a nil value removes the property).
	meta map[string]any
	// hashes are the InboundHashes to set once meta is written (absentHash
	// deletes the entry).
	hashes map[string]string
	// props are the profile's known Userpilot properties once meta is written.
	props map[string]store.Property
	// outbound are the OutboundHashes that no longer describe HubSpot once
	// meta is written: HubSpot property -> the hash read and the hash of the
	// value HubSpot now holds. Updating them ends the echo of a value
	// pilotsync once wrote, so HubSpot changing back to it later is a
	// genuine change again.
	outbound map[string][2]string
}

// planner applies the linking rules and the diff to one page.
type planner struct {
	obj Object
	env string
	now time.Time
	// profiles are the stored (or, for id matches, new) profiles the page
	// may touch, by profile id. The planner mutates their links in place.
	profiles map[string]*store.Profile
	// byHubSpot is the store's hubspot id → profile ids at page start.
	byHubSpot map[string][]string
	// byMatch is the store's normalized match value → profile ids.
	byMatch map[string][]string

	counts  Counts
	changes map[string]*change // by profile id
	order   []string           // profile ids in first-change order
	touched map[string]bool    // profiles to save
}

func newPlanner(obj Object, env string, now time.Time, profiles map[string]*store.Profile, byHubSpot, byMatch map[string][]string) *planner {
	return &planner{
		obj: obj, env: env, now: now, profiles: profiles, byHubSpot: byHubSpot, byMatch: byMatch,
		changes: map[string]*change{}, touched: map[string]bool{},
	}
}

// matchValue is p's current normalized match value, the one a link made now
// is made under.
func (pl *planner) matchValue(p *store.Profile) string {
	if pl.obj.idMatch() {
		return identity.Normalize(p.ID)
	}
	return p.MatchValue
}

// candidates returns the profiles the store maps to match value v.
func (pl *planner) candidates(v string) []*store.Profile {
	if v == "" {
		return nil
	}
	if pl.obj.idMatch() {
		p := pl.profiles[v]
		if p == nil {
			p = &store.Profile{Env: pl.env, Kind: pl.obj.Kind, ID: v, MatchValue: identity.Normalize(v)}
			pl.profiles[v] = p
		}
		return []*store.Profile{p}
	}
	var out []*store.Profile
	for _, id := range pl.byMatch[v] {
		// The profile read may hold a newer match value than the lookup.
		if p := pl.profiles[id]; p != nil && p.MatchValue == v {
			out = append(out, p)
		}
	}
	return out
}

// apply plans one record.
func (pl *planner) apply(r record) {
	pl.counts.Read++
	merged := map[string]bool{}
	for _, id := range r.merged {
		merged[id] = true
	}
	targets := map[string]*store.Profile{}
	var order []*store.Profile
	link := func(p *store.Profile) {
		if targets[p.ID] != nil {
			return
		}
		switch {
		case p.HubSpotID == r.id && p.HubSpotObject == pl.obj.HubSpotObject:
		case p.HubSpotID == "":
			pl.counts.Linked++
		default:
			pl.counts.Relinked++
		}
		targets[p.ID] = p
		order = append(order, p)
	}
	// 1. primary match value.
	for _, p := range pl.candidates(r.primary) {
		link(p)
	}
	// 2. additional emails: only unlinked profiles, or ones already on this
	// record or on a record merged into it.
	for _, v := range r.additional {
		for _, p := range pl.candidates(v) {
			if p.HubSpotID == "" || p.HubSpotID == r.id || merged[p.HubSpotID] {
				link(p)
			}
		}
	}
	// 3 and 4. profiles currently linked to this record or to a merged one.
	for _, id := range append([]string{r.id}, r.merged...) {
		for _, pid := range pl.byHubSpot[id] {
			p := pl.profiles[pid]
			if p == nil || targets[p.ID] != nil || p.HubSpotID != id {
				continue // not loaded, already handled, or moved earlier in this page
			}
			if id != r.id {
				link(p) // merged away: follow the surviving record
				continue
			}
			pl.unlink(p)
		}
	}
	if len(order) == 0 {
		pl.counts.Unmatched++
		return
	}
	for _, p := range order {
		// The link is made under the profile's current match value: it stays
		// valid until that value changes (identity.Link.ValidFor).
		if linker.Set(p, r.id, pl.obj.HubSpotObject, pl.matchValue(p)) {
			pl.touched[p.ID] = true
		}
		pl.diff(p, r)
	}
}

// unlink removes p's link and plans the removal of the link keys it carries
// in Userpilot.
func (pl *planner) unlink(p *store.Profile) {
	pl.counts.Unlinked++
	linker.Unlink(p)
	pl.touched[p.ID] = true
	c := pl.change(p)
	keys := []string{KeyObjectType, pl.obj.linkKey()}
	if pl.obj.ClearOnUnlink {
		// The values copied from the record describe a record the profile
		// no longer corresponds to.
		for _, m := range pl.obj.Inbound {
			keys = append(keys, m.Userpilot)
		}
	}
	for _, k := range keys {
		if h := p.InboundHashes[k]; h != "" && h != absentHash {
			c.meta[k] = nil
			c.hashes[k] = absentHash
			c.props[k] = store.Property{Value: nil, At: pl.now}
		} else {
			delete(c.meta, k)
			delete(c.hashes, k)
			delete(c.props, k)
		}
	}
}

// change returns p's pending change, creating it.
func (pl *planner) change(p *store.Profile) *change {
	c := pl.changes[p.ID]
	if c == nil {
		c = &change{p: p, meta: map[string]any{}, hashes: map[string]string{}, props: map[string]store.Property{}, outbound: map[string][2]string{}}
		pl.changes[p.ID] = c
		pl.order = append(pl.order, p.ID)
	}
	return c
}

// diff plans the Userpilot write of record r's values to linked profile p:
// only values whose hash differs from the last inbound write, and never a
// value pilotsync itself wrote to HubSpot (an echo) until HubSpot was seen
// holding another value.
func (pl *planner) diff(p *store.Profile, r record) {
	c := pl.change(p)
	// Values planned earlier in this page for p (another record) are
	// superseded by this one's.
	clear(c.meta)
	clear(c.hashes)
	clear(c.props)
	clear(c.outbound)
	at := r.updatedAt
	if at.IsZero() {
		at = pl.now
	}
	set := func(key, hsProp, v string, ok, echoCheck bool) {
		h := valueHash(v, ok)
		cur := p.InboundHashes[key]
		if cur == "" {
			cur = absentHash
		}
		if cur == h {
			return
		}
		if ok && echoCheck && p.OutboundHashes[hsProp] == ValueHash(v) {
			// pilotsync wrote this value to HubSpot from Userpilot: Userpilot
			// already has it. Remember it so it is not re-examined.
			pl.counts.Echoes++
			if p.InboundHashes == nil {
				p.InboundHashes = map[string]string{}
			}
			p.InboundHashes[key] = h
			pl.touched[p.ID] = true
			return
		}
		c.hashes[key] = h
		if sent, has := p.OutboundHashes[hsProp]; has && echoCheck {
			// HubSpot holds v now, not what pilotsync last sent ("" is
			// HubSpot's encoding of no value).
			if now := ValueHash(v); sent != now {
				c.outbound[hsProp] = [2]string{sent, now}
			}
		}
		if ok {
			c.meta[key] = v
			c.props[key] = store.Property{Value: v, At: at}
		} else {
			c.meta[key] = nil
			c.props[key] = store.Property{Value: nil, At: at}
		}
	}
	for _, m := range pl.obj.Inbound {
		v, ok := r.props[m.HubSpot]
		ok = ok && v != ""
		set(m.Userpilot, m.HubSpot, v, ok, true)
	}
	set(KeyObjectType, "", pl.obj.HubSpotObject, true, false)
	set(pl.obj.linkKey(), "", r.id, true, false)
}

// result finishes the plan: the non-empty changes in order, and the number of
// linked profiles with nothing to write.
func (pl *planner) result() []*change {
	var out []*change
	for _, id := range pl.order {
		c := pl.changes[id]
		if len(c.meta) == 0 {
			if c.p.HubSpotID != "" {
				pl.counts.Skipped++
			}
			continue
		}
		out = append(out, c)
	}
	return out
}

// applyWritten records in p that c's values are now in Userpilot.
func (c *change) applyWritten() {
	p := c.p
	if p.InboundHashes == nil {
		p.InboundHashes = map[string]string{}
	}
	for k, h := range c.hashes {
		if h == absentHash {
			delete(p.InboundHashes, k)
		} else {
			p.InboundHashes[k] = h
		}
	}
	for k, sentNow := range c.outbound {
		// Only if outbound has not sent something newer meanwhile (p may be
		// a fresher copy re-read after a conflict).
		if p.OutboundHashes[k] == sentNow[0] {
			p.OutboundHashes[k] = sentNow[1]
		}
	}
	if p.Properties == nil {
		p.Properties = map[string]store.Property{}
	}
	for k, v := range c.props {
		if cur, ok := p.Properties[k]; ok && cur.At.After(v.At) {
			continue // a newer Userpilot-side value is known: keep it
		}
		p.Properties[k] = v
	}
}
